"""Sets up and inspects the local stack for `make demo` (moto on loopback).

  demo_stack.py setup ENDPOINT     buckets, sample objects, the delivery stream
  demo_stack.py show ENDPOINT      prints every record that reached the destination
"""
import gzip
import json
import pathlib
import sys

import boto3

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCE = "demo-source-logs"
DEST = "demo-destination"
STREAM = "demo-stream"
OBJECTS = json.loads((ROOT / "events" / "objects" / "manifest.json").read_text())


def client(service, endpoint):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="demo", aws_secret_access_key="demo")


def setup(endpoint):
    s3 = client("s3", endpoint)
    for bucket in (SOURCE, DEST):
        s3.create_bucket(Bucket=bucket)
    for entry in OBJECTS:
        body = (ROOT / "events" / "objects" / entry["file"]).read_bytes()
        s3.put_object(Bucket=SOURCE, Key=entry["key"], Body=gzip.compress(body) if entry["gzip"] else body)
        print(f"  uploaded s3://{SOURCE}/{entry['key']}")
    client("firehose", endpoint).create_delivery_stream(
        DeliveryStreamName=STREAM,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose-delivery",
            "BucketARN": f"arn:aws:s3:::{DEST}",
            "Prefix": "records/",
            "CompressionFormat": "UNCOMPRESSED",
            "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 300},
            "EncryptionConfiguration": {"NoEncryptionConfig": "NoEncryption"},
        },
    )
    print(f"  delivery stream {STREAM} -> s3://{DEST}/records/")


MAGIC = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd"}


def compression_of(body):
    for magic, name in MAGIC.items():
        if body.startswith(magic):
            return name
    return "none"


def read_destination(s3):
    """Every record in the destination, read by DuckDB's read_ndjson_objects
    whatever the setting: plain NDJSON, or the multi-member gzip / zstd files
    that RECORD_COMPRESSION makes Firehose write."""
    import duckdb

    folder = ROOT / ".local" / "demo" / "destination"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    suffix = {"gzip": "ndjson.gz", "zstd": "ndjson.zst", "none": "ndjson"}
    groups, stored, count = {}, 0, 0
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=DEST):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=DEST, Key=obj["Key"])["Body"].read()
            stored += len(body)
            kind = compression_of(body)
            path = folder / f"part-{count:05d}.{suffix[kind]}"
            count += 1
            path.write_bytes(body)
            groups.setdefault(kind, []).append(str(path))
    records = []
    for kind, paths in sorted(groups.items()):
        rows = duckdb.sql(
            "select json from read_ndjson_objects($paths, compression = $compression)",
            params={"paths": paths, "compression": "uncompressed" if kind == "none" else kind},
        ).fetchall()
        records += [json.loads(row[0]) for row in rows]
        print(f"  {len(paths)} object(s) stored as {kind}: {len(rows)} record(s), read by DuckDB read_ndjson_objects")
    return records, stored


def show(endpoint):
    s3 = client("s3", endpoint)
    records, stored = read_destination(s3)
    by_dataset = {}
    for r in records:
        by_dataset.setdefault(r["event"]["dataset"], []).append(r)
    for dataset, recs in sorted(by_dataset.items()):
        first = dict(recs[0])
        first.get("event", {}).pop("original", None)
        line = json.dumps(first, separators=(",", ":"))
        print(f"\n== {dataset}: {len(recs)} record(s); the first without event.original:")
        print("   " + (line if len(line) <= 600 else line[:600] + " ..."))
    if "aws.cloudtrail" in by_dataset:
        print("\n== one record in full (aws.cloudtrail):")
        print(json.dumps(by_dataset["aws.cloudtrail"][0], indent=2))
    ids = {r["event"]["id"] for r in records}
    objects = {r["aws"]["s3"]["key"] for r in records}
    print(f"\n{len(records)} record(s) in s3://{DEST}: {len(ids)} distinct event.id from {len(objects)} object(s)"
          " (the sample batch names some objects in several messages; their events repeat with the same id)")
    print(f"{stored} bytes stored for them in s3://{DEST}")
    if not records:
        sys.exit("no records reached the destination")


if __name__ == "__main__":
    {"setup": setup, "show": show}[sys.argv[1]](sys.argv[2])
