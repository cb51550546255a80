#!/usr/bin/env bash
# cfn-lint and `sam validate --lint` on template.yaml and every template-*.yaml.
#
#   VENV=.venv bash scripts/lint-templates.sh      (VENV: the virtualenv holding both tools)
#
# Offline and hermetic: dummy credentials, a region and no AWS config files are
# set for the two commands only (nothing is exported to the caller). Lints
# every template, then exits non-zero if any check failed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

for tool in cfn-lint sam; do
  if [ ! -x "$VENV/bin/$tool" ]; then
    echo "lint-templates: $VENV/bin/$tool not found (make venv, or set VENV)" >&2
    exit 2
  fi
done

templates=(template.yaml)
for t in template-*.yaml; do [ -e "$t" ] && templates+=("$t"); done

offline() {
  env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_SESSION_TOKEN \
    AWS_ACCESS_KEY_ID=lint AWS_SECRET_ACCESS_KEY=lint \
    AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    SAM_CLI_TELEMETRY=0 "$@"
}

failed=()
for t in "${templates[@]}"; do
  echo "cfn-lint $t"
  offline "$VENV/bin/cfn-lint" -- "$t" || failed+=("cfn-lint $t")
  echo "sam validate --lint -t $t"
  offline "$VENV/bin/sam" validate --lint --region us-east-1 -t "$t" || failed+=("sam validate $t")
done

if [ ${#failed[@]} -gt 0 ]; then
  printf 'lint-templates: FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "lint-templates: ${#templates[@]} template(s) clean"
