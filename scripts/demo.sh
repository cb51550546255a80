#!/usr/bin/env bash
# `make demo`: the function end to end on the local stack.
#   moto on loopback -> sample objects + delivery stream -> the function under
#   cargo lambda's runtime emulator -> the sample SQS events -> the records
#   read back from the destination bucket.
# Everything listens on 127.0.0.1 and is stopped by PID on exit.
# RECORD_PACKING and RECORD_COMPRESSION pass through to the function; the
# destination is read back by DuckDB whatever they are.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export PATH="$PWD/$VENV/bin:$PATH"
STATE=.local/demo
mkdir -p "$STATE"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MOTO_PORT=$(free_port)
INVOKE_PORT=$(free_port)
ENDPOINT="http://127.0.0.1:$MOTO_PORT"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

echo "==> moto on $ENDPOINT"
moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$STATE/moto.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "$ENDPOINT/moto-api/" >/dev/null 2>&1 && break; sleep 0.2; done

echo "==> local stack: buckets, sample objects, delivery stream"
"$VENV/bin/python" scripts/demo_stack.py setup "$ENDPOINT"

echo "==> building the function"
cargo build --quiet --bin s3-log-forwarder

echo "==> cargo lambda watch (runtime emulator) on 127.0.0.1:$INVOKE_PORT"
cat >"$STATE/function.env" <<ENV
DELIVERY_STREAM_NAME=demo-stream
ALLOWED_BUCKETS=demo-source-logs
AWS_ENDPOINT_URL=$ENDPOINT
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=demo
AWS_SECRET_ACCESS_KEY=demo
RUST_LOG="info,s3_log_forwarder=debug"
LOG_FORMAT=text
RECORD_PACKING=${RECORD_PACKING:-none}
RECORD_COMPRESSION=${RECORD_COMPRESSION:-none}
ENV
echo "    RECORD_PACKING=${RECORD_PACKING:-none} RECORD_COMPRESSION=${RECORD_COMPRESSION:-none} (make demo RECORD_PACKING=ndjson RECORD_COMPRESSION=zstd to try another)"
cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$INVOKE_PORT" \
  --env-file "$STATE/function.env" >"$STATE/function.log" 2>&1 &
WATCH_PID=$!
pids+=($WATCH_PID)

for event in events/sqs-mixed-batch.json events/sqs-formats.json; do
  echo "==> invoke with $event"
  ok=
  for _ in $(seq 120); do
    if out=$(cargo lambda invoke s3-log-forwarder --invoke-address 127.0.0.1 --invoke-port "$INVOKE_PORT" \
        --data-file "$event" --output-format json 2>"$STATE/invoke.err"); then
      ok=1; break
    fi
    kill -0 "$WATCH_PID" 2>/dev/null || { echo "cargo lambda watch exited:"; cat "$STATE/function.log"; exit 1; }
    sleep 1
  done
  [ -n "$ok" ] || { cat "$STATE/invoke.err" "$STATE/function.log"; exit 1; }
  echo "    response (messages SQS would deliver again): $out"
done

echo "==> function log (summary lines)"
grep -E "invocation summary|object failed|message body|refused|TestEvent" "$STATE/function.log" | sed 's/^/    /' | cut -c1-400 || true

echo "==> records in the destination"
"$VENV/bin/python" scripts/demo_stack.py show "$ENDPOINT"

CT_KEY="AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/22/111111111111_CloudTrail_us-east-1_20261122T2055Z_demo.json.gz"
check_env=(env AWS_ENDPOINT_URL="$ENDPOINT" AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo
  ALLOWED_BUCKETS=demo-source-logs RUST_LOG=error)
echo "==> s3-log-forwarder check: the demo set-up"
"${check_env[@]}" DELIVERY_STREAM_NAME=demo-stream target/debug/s3-log-forwarder check \
  --bucket demo-source-logs --key "$CT_KEY" | sed 's/^/    /'
echo "==> s3-log-forwarder check: a deliberately broken set-up (stream name typo, missing key; a failing check exits 1)"
if "${check_env[@]}" DELIVERY_STREAM_NAME=demo-stream-typo target/debug/s3-log-forwarder check \
  --bucket demo-source-logs --key "AWSLogs/missing.json.gz" | sed 's/^/    /'; [ "${PIPESTATUS[0]}" -eq 1 ]; then
  echo "    (check found the two faults, as it should)"
else
  echo "check did not report the broken set-up" >&2; exit 1
fi
