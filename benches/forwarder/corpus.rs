//! Benchmark corpora, generated from a fixed seed: CloudTrail, VPC Flow Logs
//! v2 and v5, and ALB access logs, gzip-compressed (default level, as AWS
//! writes them), laid out under `<root>/<bucket>/<key>` with AWS's own key
//! layout so format detection works as it does in production.
//!
//! Each object has its own generator seeded from (seed, corpus, object), so
//! the bytes do not depend on how many threads generate them. A manifest next
//! to the files says what was generated; a corpus whose manifest matches is
//! reused instead of generated again.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};

/// Bump when the generators change, so cached corpora are rebuilt.
const GENERATOR_VERSION: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Cloudtrail,
    VpcflowV2,
    VpcflowV5,
    Alb,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Cloudtrail => "cloudtrail",
            Kind::VpcflowV2 => "vpcflow-v2",
            Kind::VpcflowV5 => "vpcflow-v5",
            Kind::Alb => "alb",
        }
    }

    /// Whether the floor parse is JSON (else whitespace-split lines).
    pub fn is_json(self) -> bool {
        matches!(self, Kind::Cloudtrail)
    }
}

/// How much to generate: `objects` objects of about `object_bytes` each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spec {
    pub kind: Kind,
    pub objects: usize,
    pub object_bytes: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObjectFile {
    pub key: String,
    pub compressed: u64,
    pub uncompressed: u64,
    pub events: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Corpus {
    pub version: u32,
    pub seed: u64,
    pub spec: Spec,
    /// The bucket: also the directory under the root.
    pub bucket: String,
    pub objects: Vec<ObjectFile>,
}

impl Corpus {
    pub fn uncompressed(&self) -> u64 {
        self.objects.iter().map(|o| o.uncompressed).sum()
    }
    pub fn compressed(&self) -> u64 {
        self.objects.iter().map(|o| o.compressed).sum()
    }
    pub fn events(&self) -> u64 {
        self.objects.iter().map(|o| o.events).sum()
    }
    pub fn path(&self, root: &Path, obj: &ObjectFile) -> PathBuf {
        root.join(&self.bucket).join(&obj.key)
    }
}

/// The corpus of `spec` under `root`, generated unless already there.
pub fn ensure(root: &Path, seed: u64, spec: Spec) -> io::Result<Corpus> {
    let bucket = format!("bench-{}", spec.kind.name());
    let manifest = root.join(format!("{bucket}.json"));
    if let Ok(text) = fs::read_to_string(&manifest) {
        if let Ok(c) = serde_json::from_str::<Corpus>(&text) {
            if c.version == GENERATOR_VERSION
                && c.seed == seed
                && c.spec == spec
                && c.objects.iter().all(|o| c.path(root, o).exists())
            {
                return Ok(c);
            }
        }
    }
    let started = std::time::Instant::now();
    let dir = root.join(&bucket);
    let _ = fs::remove_dir_all(&dir);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(
        (0..spec.objects)
            .map(|_| None)
            .collect::<Vec<Option<io::Result<ObjectFile>>>>(),
    );
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= spec.objects {
                    break;
                }
                let r = generate_object(&dir, seed, spec, i);
                results.lock().unwrap()[i] = Some(r);
            });
        }
    });
    let objects = results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every object generated"))
        .collect::<io::Result<Vec<_>>>()?;
    let c = Corpus {
        version: GENERATOR_VERSION,
        seed,
        spec,
        bucket,
        objects,
    };
    fs::write(&manifest, serde_json::to_vec_pretty(&c)?)?;
    eprintln!(
        "generated {} ({} objects, {:.1} MB uncompressed, {:.1} MB gzip) in {:.1} s",
        spec.kind.name(),
        c.objects.len(),
        c.uncompressed() as f64 / 1e6,
        c.compressed() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(c)
}

fn generate_object(dir: &Path, seed: u64, spec: Spec, i: usize) -> io::Result<ObjectFile> {
    let mut rng = fastrand::Rng::with_seed(
        seed ^ ((spec.kind as u64 + 1) << 40) ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
    );
    let mut g = Gen::new(&mut rng, i);
    let (key, text, events) = match spec.kind {
        Kind::Cloudtrail => g.cloudtrail(spec.object_bytes),
        Kind::VpcflowV2 => g.vpcflow(spec.object_bytes, false),
        Kind::VpcflowV5 => g.vpcflow(spec.object_bytes, true),
        Kind::Alb => g.alb(spec.object_bytes),
    };
    let path = dir.join(&key);
    fs::create_dir_all(path.parent().expect("keys have folders"))?;
    let mut enc = GzEncoder::new(
        io::BufWriter::new(fs::File::create(&path)?),
        flate2::Compression::default(),
    );
    enc.write_all(text.as_bytes())?;
    enc.finish()?.flush()?;
    Ok(ObjectFile {
        key,
        compressed: fs::metadata(&path)?.len(),
        uncompressed: text.len() as u64,
        events,
    })
}

/// Writes `copies` gzip members of the same `member` text: a large object
/// with bounded generation cost (gzip readers must read every member).
pub fn repeated_object(path: &Path, member: &[u8], copies: usize) -> io::Result<u64> {
    fs::create_dir_all(path.parent().expect("a folder"))?;
    let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(member)?;
    let gz = enc.finish()?;
    let mut out = io::BufWriter::new(fs::File::create(path)?);
    for _ in 0..copies {
        out.write_all(&gz)?;
    }
    out.flush()?;
    Ok(gz.len() as u64 * copies as u64)
}

const ACCOUNTS: [&str; 5] = [
    "111122223333",
    "123456789012",
    "210987654321",
    "444455556666",
    "777788889999",
];
const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"];
const USER_AGENTS: [&str; 6] = [
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79 exe/x86_64.amzn.2023 prompt/off command/s3.cp",
    "aws-sdk-java/2.25.11 Linux/5.10.210 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/standard",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.213 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69",
    "console.amazonaws.com",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "aws-sdk-go-v2/1.26.0 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/sts#1.28.5",
];
/// 2026-11-22T00:00:00Z
const BASE_EPOCH: i64 = 1_795_305_600;

struct Gen<'a> {
    rng: &'a mut fastrand::Rng,
    object: usize,
    clock: i64,
}

impl<'a> Gen<'a> {
    fn new(rng: &'a mut fastrand::Rng, object: usize) -> Self {
        let clock = BASE_EPOCH + object as i64 * 300;
        Gen { rng, object, clock }
    }

    fn pick<'b, T>(&mut self, xs: &'b [T]) -> &'b T {
        &xs[self.rng.usize(..xs.len())]
    }

    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from_digit(self.rng.u32(..16), 16).unwrap())
            .collect()
    }

    fn upper(&mut self, n: usize) -> String {
        (0..n).map(|_| (b'A' + self.rng.u8(..26)) as char).collect()
    }

    fn uuid(&mut self) -> String {
        format!(
            "{}-{}-{}-{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(4),
            self.hex(4),
            self.hex(12)
        )
    }

    fn private_ip(&mut self) -> String {
        format!(
            "10.{}.{}.{}",
            self.rng.u8(..),
            self.rng.u8(..),
            self.rng.u8(1..255)
        )
    }

    fn public_ip(&mut self) -> String {
        let first = *self.pick(&[3u8, 18, 34, 52, 54, 198, 203]);
        format!(
            "{first}.{}.{}.{}",
            self.rng.u8(..),
            self.rng.u8(..),
            self.rng.u8(1..255)
        )
    }

    fn time(&mut self) -> String {
        self.clock += self.rng.i64(0..2);
        rfc3339(self.clock, None)
    }

    // ---------------------------------------------------------------- CloudTrail

    fn cloudtrail(&mut self, target: usize) -> (String, String, u64) {
        let account = ACCOUNTS[self.object % ACCOUNTS.len()];
        let region = REGIONS[self.object % REGIONS.len()];
        let stamp = compact_time(self.clock);
        let key = format!(
            "AWSLogs/{account}/CloudTrail/{region}/2026/11/22/{account}_CloudTrail_{region}_{stamp}_{}.json.gz",
            self.rng.alphanumeric().to_ascii_uppercase()
        );
        let mut out = String::with_capacity(target + 16 * 1024);
        out.push_str("{\"Records\":[");
        let mut events = 0u64;
        while out.len() < target {
            if events > 0 {
                out.push(',');
            }
            self.cloudtrail_event(&mut out, account, region);
            events += 1;
        }
        out.push_str("]}");
        (key, out, events)
    }

    fn identity(&mut self, out: &mut String, account: &str) {
        let role = self
            .pick(&[
                "Admin",
                "ReadOnly",
                "ci-deployer",
                "lambda-exec",
                "DataPipeline",
            ])
            .to_string();
        let session = format!(
            "{}-{}",
            self.pick(&["alice", "bob", "ci", "i"]),
            self.hex(8)
        );
        let rid = format!("AROA{}", self.upper(17));
        let key = format!("ASIA{}", self.upper(16));
        let created = rfc3339(self.clock - 900, None);
        write!(
            out,
            r#""userIdentity":{{"type":"AssumedRole","principalId":"{rid}:{session}","arn":"arn:aws:sts::{account}:assumed-role/{role}/{session}","accountId":"{account}","accessKeyId":"{key}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"{rid}","arn":"arn:aws:iam::{account}:role/{role}","accountId":"{account}","userName":"{role}"}},"attributes":{{"creationDate":"{created}","mfaAuthenticated":"false"}}}}}}"#
        )
        .unwrap();
    }

    fn cloudtrail_event(&mut self, out: &mut String, account: &str, region: &str) {
        let roll = self.rng.u32(..100);
        let time = self.time();
        let request_id = self.uuid();
        let event_id = self.uuid();
        let ua = *self.pick(&USER_AGENTS);
        let ip = if self.rng.u32(..4) == 0 {
            self.private_ip()
        } else {
            self.public_ip()
        };
        out.push_str(r#"{"eventVersion":"1.09","#);
        match roll {
            // S3 data events: the bulk of a trail with data events on.
            0..=29 => {
                self.identity(out, account);
                let bucket = format!("{}-{account}", self.pick(&["app-data", "logs", "backups"]));
                let obj = format!(
                    "{}/{}/{}.parquet",
                    self.pick(&["raw", "curated", "exports"]),
                    self.rng.u32(2020..2027),
                    self.hex(16)
                );
                let size = self.rng.u32(100..50_000_000);
                let amzid = self.rng.alphanumeric().to_string().repeat(8);
                write!(out,
                    r#","eventTime":"{time}","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"{region}","sourceIPAddress":"{ip}","userAgent":"[{ua}]","requestParameters":{{"bucketName":"{bucket}","Host":"{bucket}.s3.{region}.amazonaws.com","key":"{obj}"}},"responseElements":null,"additionalEventData":{{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"{amzid}","bytesTransferredOut":{size}}},"requestID":"{}","eventID":"{event_id}","readOnly":true,"resources":[{{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::{bucket}/{obj}"}},{{"accountId":"{account}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{bucket}"}}],"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"{account}","eventCategory":"Data","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"{bucket}.s3.{region}.amazonaws.com"}}}}"#,
                    self.upper(16)).unwrap();
            }
            // Role assumption by services, with the long session token.
            30..=49 => {
                let service = *self.pick(&[
                    "lambda.amazonaws.com",
                    "ec2.amazonaws.com",
                    "ecs-tasks.amazonaws.com",
                ]);
                let role = *self.pick(&["lambda-exec", "ecsTaskRole", "ssm-managed"]);
                let session = self.hex(32);
                let token = format!(
                    "IQoJb3JpZ2luX2VjE{}",
                    self.rng.alphanumeric().to_string().repeat(12) + &self.hex(300)
                );
                let exp = rfc3339(self.clock + 3600, None);
                let akid = format!("ASIA{}", self.upper(16));
                let rid = format!("AROA{}", self.upper(17));
                let shared = self.uuid();
                write!(out,
                    r#""userIdentity":{{"type":"AWSService","invokedBy":"{service}"}},"eventTime":"{time}","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","awsRegion":"{region}","sourceIPAddress":"{service}","userAgent":"{service}","requestParameters":{{"roleArn":"arn:aws:iam::{account}:role/{role}","roleSessionName":"{session}","durationSeconds":3600}},"responseElements":{{"credentials":{{"accessKeyId":"{akid}","sessionToken":"{token}","expiration":"{exp}"}},"assumedRoleUser":{{"assumedRoleId":"{rid}:{session}","arn":"arn:aws:sts::{account}:assumed-role/{role}/{session}"}}}},"requestID":"{request_id}","eventID":"{event_id}","readOnly":true,"resources":[{{"accountId":"{account}","type":"AWS::IAM::Role","ARN":"arn:aws:iam::{account}:role/{role}"}}],"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"{account}","sharedEventID":"{shared}","eventCategory":"Management"}}"#).unwrap();
            }
            // KMS decrypts behind every encrypted read.
            50..=69 => {
                self.identity(out, account);
                let key_id = self.uuid();
                let ctx = self.hex(24);
                write!(out,
                    r#","eventTime":"{time}","eventSource":"kms.amazonaws.com","eventName":"Decrypt","awsRegion":"{region}","sourceIPAddress":"{ip}","userAgent":"{ua}","requestParameters":{{"encryptionContext":{{"aws:s3:arn":"arn:aws:s3:::app-data-{account}/{ctx}"}},"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}},"responseElements":null,"requestID":"{request_id}","eventID":"{event_id}","readOnly":true,"resources":[{{"accountId":"{account}","type":"AWS::KMS::Key","ARN":"arn:aws:kms:{region}:{account}:key/{key_id}"}}],"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"{account}","eventCategory":"Management","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_256_GCM_SHA384","clientProvidedHostHeader":"kms.{region}.amazonaws.com"}}}}"#).unwrap();
            }
            // Read-only EC2 calls with filters.
            70..=84 => {
                self.identity(out, account);
                let vpc = self.hex(17);
                write!(out,
                    r#","eventTime":"{time}","eventSource":"ec2.amazonaws.com","eventName":"{}","awsRegion":"{region}","sourceIPAddress":"{ip}","userAgent":"{ua}","requestParameters":{{"instancesSet":{{}},"filterSet":{{"items":[{{"name":"vpc-id","valueSet":{{"items":[{{"value":"vpc-{vpc}"}}]}}}},{{"name":"instance-state-name","valueSet":{{"items":[{{"value":"running"}}]}}}}]}}}},"responseElements":null,"requestID":"{request_id}","eventID":"{event_id}","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"{account}","eventCategory":"Management","tlsDetails":{{"tlsVersion":"TLSv1.2","cipherSuite":"ECDHE-RSA-AES128-GCM-SHA256","clientProvidedHostHeader":"ec2.{region}.amazonaws.com"}}}}"#,
                    self.pick(&["DescribeInstances", "DescribeSecurityGroups", "DescribeSubnets"])).unwrap();
            }
            // CloudWatch Logs writes.
            85..=94 => {
                self.identity(out, account);
                let group = format!(
                    "/aws/lambda/{}",
                    self.pick(&["orders", "payments", "auth", "etl"])
                );
                let stream = format!("2026/11/22/[$LATEST]{}", self.hex(32));
                write!(out,
                    r#","eventTime":"{time}","eventSource":"logs.amazonaws.com","eventName":"CreateLogStream","awsRegion":"{region}","sourceIPAddress":"{ip}","userAgent":"{ua}","requestParameters":{{"logGroupName":"{group}","logStreamName":"{stream}"}},"responseElements":null,"requestID":"{request_id}","eventID":"{event_id}","readOnly":false,"eventType":"AwsApiCall","apiVersion":"20140328","managementEvent":true,"recipientAccountId":"{account}","eventCategory":"Management"}}"#).unwrap();
            }
            // RunInstances: a large response.
            95..=97 => {
                self.identity(out, account);
                let reservation = self.hex(17);
                let mut items = String::new();
                for n in 0..self.rng.usize(1..4) {
                    if n > 0 {
                        items.push(',');
                    }
                    let (id, ip, eni, sg, subnet) = (
                        self.hex(17),
                        self.private_ip(),
                        self.hex(17),
                        self.hex(17),
                        self.hex(17),
                    );
                    write!(items,
                        r#"{{"instanceId":"i-{id}","imageId":"ami-0abcdef1234567890","currentInstanceBootMode":"uefi","instanceState":{{"code":0,"name":"pending"}},"privateDnsName":"ip-{}.{region}.compute.internal","amiLaunchIndex":{n},"productCodes":{{}},"instanceType":"m7g.large","launchTime":{},"placement":{{"availabilityZone":"{region}a","tenancy":"default"}},"monitoring":{{"state":"disabled"}},"subnetId":"subnet-{subnet}","vpcId":"vpc-{}","privateIpAddress":"{ip}","stateReason":{{"code":"pending","message":"pending"}},"architecture":"arm64","rootDeviceType":"ebs","rootDeviceName":"/dev/xvda","blockDeviceMapping":{{}},"virtualizationType":"hvm","hypervisor":"xen","groupSet":{{"items":[{{"groupId":"sg-{sg}","groupName":"default"}}]}},"sourceDestCheck":true,"networkInterfaceSet":{{"items":[{{"networkInterfaceId":"eni-{eni}","subnetId":"subnet-{subnet}","ownerId":"{account}","status":"in-use","macAddress":"0a:1b:2c:3d:4e:5f","privateIpAddress":"{ip}","sourceDestCheck":true,"interfaceType":"interface","attachment":{{"attachmentId":"eni-attach-{}","deviceIndex":0,"networkCardIndex":0,"status":"attaching","attachTime":{},"deleteOnTermination":true}}}}]}},"ebsOptimized":true,"enaSupport":true,"cpuOptions":{{"coreCount":2,"threadsPerCore":1}},"metadataOptions":{{"state":"pending","httpTokens":"required","httpPutResponseHopLimit":2,"httpEndpoint":"enabled"}}}}"#,
                        ip.replace('.', "-"), self.clock * 1000, self.hex(8), self.hex(17), self.clock * 1000).unwrap();
                }
                write!(out,
                    r#","eventTime":"{time}","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"{region}","sourceIPAddress":"{ip}","userAgent":"{ua}","requestParameters":{{"instancesSet":{{"items":[{{"imageId":"ami-0abcdef1234567890","minCount":1,"maxCount":1}}]}},"instanceType":"m7g.large","blockDeviceMapping":{{}},"monitoring":{{"enabled":false}},"disableApiTermination":false,"disableApiStop":false,"clientToken":"{}"}},"responseElements":{{"requestId":"{request_id}","reservationId":"r-{reservation}","ownerId":"{account}","groupSet":{{}},"instancesSet":{{"items":[{items}]}}}},"requestID":"{request_id}","eventID":"{event_id}","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"{account}","eventCategory":"Management"}}"#,
                    self.uuid()).unwrap();
            }
            // Console sign-ins, some failed.
            _ => {
                let user = *self.pick(&["alice", "bob", "carol", "dave"]);
                let ok = if self.rng.u32(..5) == 0 {
                    "Failure"
                } else {
                    "Success"
                };
                let mfa = if ok == "Success" { "Yes" } else { "No" };
                write!(out,
                    r#""userIdentity":{{"type":"IAMUser","principalId":"AIDA{}","arn":"arn:aws:iam::{account}:user/{user}","accountId":"{account}","userName":"{user}"}},"eventTime":"{time}","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"{ip}","userAgent":"{}","requestParameters":null,"responseElements":{{"ConsoleLogin":"{ok}"}},"additionalEventData":{{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAUsed":"{mfa}"}},"eventID":"{event_id}","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"{account}","eventCategory":"Management","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"signin.aws.amazon.com"}}}}"#,
                    self.upper(17), USER_AGENTS[4]).unwrap();
            }
        }
    }

    // ---------------------------------------------------------------- VPC Flow Logs

    fn vpcflow(&mut self, target: usize, v5: bool) -> (String, String, u64) {
        let account = ACCOUNTS[self.object % ACCOUNTS.len()];
        let region = REGIONS[self.object % REGIONS.len()];
        let stamp = compact_time(self.clock);
        let key = format!(
            "AWSLogs/{account}/vpcflowlogs/{region}/2026/11/22/{account}_vpcflowlogs_{region}_fl-{}_{stamp}_{}.log.gz",
            self.hex(17),
            self.hex(8)
        );
        let mut out = String::with_capacity(target + 1024);
        out.push_str("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status");
        if v5 {
            out.push_str(" vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path");
        }
        out.push('\n');
        // A few interfaces per file, as one flow log's file holds.
        let enis: Vec<String> = (0..8).map(|_| self.hex(17)).collect();
        let vpc = self.hex(17);
        let subnet = self.hex(17);
        let mut events = 0u64;
        while out.len() < target {
            let eni = self.rng.usize(..enis.len());
            let start = self.clock + self.rng.i64(0..60);
            let end = start + 60;
            let version = if v5 { 5 } else { 2 };
            if self.rng.u32(..50) == 0 {
                write!(
                    out,
                    "{version} {account} eni-{} - - - - - - - {start} {end} - NODATA",
                    enis[eni]
                )
                .unwrap();
                if v5 {
                    write!(
                        out,
                        " vpc-{vpc} subnet-{subnet} - - - - - {region} use1-az1 - - - - - -"
                    )
                    .unwrap();
                }
            } else {
                let (src, dst) = (
                    self.private_ip(),
                    if self.rng.bool() {
                        self.private_ip()
                    } else {
                        self.public_ip()
                    },
                );
                let proto = *self.pick(&[6u8, 6, 6, 17, 17, 1]);
                let (sport, dport) = (
                    self.rng.u16(1024..),
                    *self.pick(&[443u16, 80, 22, 53, 5432, 3306, 8080]),
                );
                let packets = self.rng.u32(1..5000);
                let bytes = packets as u64 * self.rng.u64(40..1500);
                let action = if self.rng.u32(..10) == 0 {
                    "REJECT"
                } else {
                    "ACCEPT"
                };
                write!(out, "{version} {account} eni-{} {src} {dst} {sport} {dport} {proto} {packets} {bytes} {start} {end} {action} OK", enis[eni]).unwrap();
                if v5 {
                    let flags = *self.pick(&[0u8, 2, 3, 18, 19, 1]);
                    let svc = *self.pick(&["-", "-", "-", "S3", "AMAZON", "DYNAMODB"]);
                    let dir = if self.rng.bool() { "ingress" } else { "egress" };
                    let path = if dir == "egress" {
                        self.rng.u8(1..9).to_string()
                    } else {
                        "-".into()
                    };
                    write!(out, " vpc-{vpc} subnet-{subnet} i-{} {flags} IPv4 {src} {dst} {region} use1-az{} - - - {svc} {dir} {path}", self.hex(17), self.rng.u8(1..7)).unwrap();
                }
            }
            out.push('\n');
            events += 1;
            if events.is_multiple_of(64) {
                self.clock += 1;
            }
        }
        (key, out, events)
    }

    // ---------------------------------------------------------------- ALB

    fn alb(&mut self, target: usize) -> (String, String, u64) {
        let account = ACCOUNTS[self.object % ACCOUNTS.len()];
        let region = REGIONS[self.object % REGIONS.len()];
        let lb_id = self.hex(16);
        let stamp = compact_time(self.clock);
        let key = format!(
            "AWSLogs/{account}/elasticloadbalancing/{region}/2026/11/22/{account}_elasticloadbalancing_{region}_app.web-{lb_id}_{stamp}_10.0.{}.{}_{}.log.gz",
            self.rng.u8(..),
            self.rng.u8(1..255),
            self.hex(8)
        );
        let tg = format!(
            "arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/web-targets/{}",
            self.hex(16)
        );
        let cert = format!("arn:aws:acm:{region}:{account}:certificate/{}", self.uuid());
        let paths = [
            "/",
            "/api/v1/orders",
            "/api/v1/users/me",
            "/static/app.js",
            "/health",
            "/login",
            "/search?q=shoes&page=2",
        ];
        let mut out = String::with_capacity(target + 1024);
        let mut events = 0u64;
        while out.len() < target {
            self.clock += (self.rng.u32(..4) == 0) as i64;
            let micros = self.rng.u32(..1_000_000);
            let time = rfc3339(self.clock, Some(micros));
            let created = rfc3339(
                self.clock,
                Some(micros.saturating_sub(self.rng.u32(..1000))),
            );
            let https = self.rng.u32(..5) != 0;
            let (kind, port) = if https { ("https", 443) } else { ("http", 80) };
            let client = self.public_ip();
            let target_ip = self.private_ip();
            let status = *self.pick(&[200u16, 200, 200, 200, 301, 304, 404, 500, 502]);
            let method = *self.pick(&["GET", "GET", "GET", "POST", "PUT"]);
            let path = *self.pick(&paths);
            let ua = *self.pick(&USER_AGENTS);
            let (cipher, proto) = if https {
                ("TLS_AES_128_GCM_SHA256", "TLSv1.3")
            } else {
                ("-", "-")
            };
            let trace = format!("Root=1-{}-{}", self.hex(8), self.hex(24));
            let sent = self.rng.u32(100..200_000);
            let recv = self.rng.u32(100..2000);
            writeln!(out,
                "{kind} {time} app/web/{lb_id} {client}:{} {target_ip}:8080 0.000 0.{:03} 0.000 {status} {status} {recv} {sent} \"{method} {kind}://www.example.com:{port}{path} HTTP/1.1\" \"{ua}\" {cipher} {proto} {tg} \"{trace}\" \"www.example.com\" \"{}\" 0 {created} \"forward\" \"-\" \"-\" \"{target_ip}:8080\" \"{status}\" \"-\" \"-\" TID_{}",
                self.rng.u16(1024..), self.rng.u32(1..999), if https { cert.as_str() } else { "-" }, self.hex(32)).unwrap();
            events += 1;
        }
        (key, out, events)
    }
}

/// `2026-11-22T00:00:00Z` (or with `.ffffff` microseconds).
fn rfc3339(epoch: i64, micros: Option<u32>) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(epoch).expect("a valid time");
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if let Some(us) = micros {
        write!(s, ".{us:06}").unwrap();
    }
    s.push('Z');
    s
}

/// `20261122T0000Z`, as in CloudTrail and flow log file names.
fn compact_time(epoch: i64) -> String {
    let s = rfc3339(epoch, None);
    format!(
        "{}{}{}T{}{}Z",
        &s[0..4],
        &s[5..7],
        &s[8..10],
        &s[11..13],
        &s[14..16]
    )
}
