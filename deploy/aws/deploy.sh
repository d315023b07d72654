#!/usr/bin/env bash
# Deploy SocketX Server on ECS Fargate with CloudFormation.
#
#   ./deploy.sh create|update|delete [stack-name]
#
# Reads parameters.json beside this script (edit it first). Environment:
#   STACK_NAME   stack name (default socketx; the second argument wins)
#   AWS_REGION   region (default: the AWS CLI's configured region)
#   PARAMS_FILE  parameters file (default parameters.json beside this script)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
template="$here/template.yaml"

usage() {
  cat >&2 <<USAGE
usage: $(basename "$0") create|update|delete [stack-name]

  create   create the stack (fails if it exists) and wait for it
  update   update the stack with template.yaml and parameters.json
  delete   delete the stack and wait for it to be gone

environment: STACK_NAME (default socketx), AWS_REGION, PARAMS_FILE
USAGE
  exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
action="$1"
stack="${2:-${STACK_NAME:-socketx}}"
params="${PARAMS_FILE:-$here/parameters.json}"

command -v aws >/dev/null || { echo "deploy.sh: the AWS CLI (aws) is required" >&2; exit 1; }
region_args=()
[ -n "${AWS_REGION:-}" ] && region_args=(--region "$AWS_REGION")

# parameters.json ([{"ParameterKey":..,"ParameterValue":..}]) as Key=Value
# arguments for `aws cloudformation deploy`; empty values are kept.
param_overrides() {
  python3 - "$params" <<'PY' 2>/dev/null || jq -r '.[] | "\(.ParameterKey)=\(.ParameterValue)"' "$params"
import json, sys
for p in json.load(open(sys.argv[1])):
    print(f'{p["ParameterKey"]}={p["ParameterValue"]}')
PY
}

case "$action" in
  create|update)
    if [ "$action" = create ] && aws cloudformation "${region_args[@]}" describe-stacks --stack-name "$stack" >/dev/null 2>&1; then
      echo "deploy.sh: stack $stack exists; use update" >&2; exit 1
    fi
    if [ "$action" = update ] && ! aws cloudformation "${region_args[@]}" describe-stacks --stack-name "$stack" >/dev/null 2>&1; then
      echo "deploy.sh: stack $stack does not exist; use create" >&2; exit 1
    fi
    aws cloudformation "${region_args[@]}" validate-template --template-body "file://$template" >/dev/null
    mapfile -t overrides < <(param_overrides)
    if [ "${#overrides[@]}" -eq 0 ]; then echo "deploy.sh: no parameters read from $params" >&2; exit 1; fi
    aws cloudformation "${region_args[@]}" deploy \
      --stack-name "$stack" \
      --template-file "$template" \
      --capabilities CAPABILITY_IAM \
      --no-fail-on-empty-changeset \
      --parameter-overrides "${overrides[@]}"
    aws cloudformation "${region_args[@]}" describe-stacks --stack-name "$stack" \
      --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output table
    ;;
  delete)
    aws cloudformation "${region_args[@]}" delete-stack --stack-name "$stack"
    aws cloudformation "${region_args[@]}" wait stack-delete-complete --stack-name "$stack"
    echo "deploy.sh: stack $stack deleted"
    ;;
  *)
    usage
    ;;
esac
