"""Writes events/sqs-formats.json: one SQS message per sample object in
events/objects/manifest.json, each an S3 event notification as S3 sends it
(key form-URL-encoded). Run after changing the manifest."""
import hashlib
import json
import pathlib
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUCKET = "demo-source-logs"
QUEUE = "arn:aws:sqs:us-east-1:111111111111:s3-log-forwarder-queue"

manifest = json.loads((ROOT / "events/objects/manifest.json").read_text())
records = []
for i, entry in enumerate(manifest, start=1):
    body = json.dumps({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-22T20:55:04.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "203.0.113.10"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "forward-logs",
               "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
               "object": {"key": urllib.parse.quote_plus(entry["key"], safe="/"),
                          "sequencer": f"0061A2B3C4D5E6F7{i:02d}"}}}]})
    records.append({
        "messageId": f"5e0c1b2a-7d3f-4c8e-9a6b-0000000000{i:02d}",
        "receiptHandle": f"AQEBformat{i:02d}...",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795380904132",
                       "SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1795380904140"},
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs", "eventSourceARN": QUEUE, "awsRegion": "us-east-1",
    })
out = ROOT / "events/sqs-formats.json"
out.write_text(json.dumps({"Records": records}, indent=2) + "\n")
print(f"wrote {out} with {len(records)} messages")
