#!/usr/bin/env bash
# cfn-lint and `sam validate --lint` on every CloudFormation template here.
# Offline: dummy credentials and a region only for these commands.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
templates=(template.yaml)
for t in template-*.yaml; do [ -e "$t" ] && templates+=("$t"); done
for t in "${templates[@]}"; do
  echo "cfn-lint $t"
  "$VENV/bin/cfn-lint" "$t"
  echo "sam validate --lint -t $t"
  AWS_ACCESS_KEY_ID=lint AWS_SECRET_ACCESS_KEY=lint AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0 \
    "$VENV/bin/sam" validate --lint --region us-east-1 -t "$t"
done
