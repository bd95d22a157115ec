#!/usr/bin/env bash
# `make demo`: the onboarding flow as far as it is built today.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*" >&2; }

step "validate the institution files"
tutormail validate institutions/*.yaml

step "synthesize every stack (offline, no credentials; cdk-nag runs inside)"
cdk synth --quiet >&2
cfn-lint cdk.out/*.template.json

for file in institutions/*.yaml; do
  slug=$(basename "$file" .yaml)
  [ "$slug" = platform ] && continue
  step "plan for $slug"
  tutormail plan "$slug"
done

step "summary"
echo "validated, synthesized ($(ls cdk.out/*.template.json | wc -l) templates, cdk-nag and cfn-lint clean) and planned" \
     "$(ls institutions/*.yaml | grep -vc platform.yaml) institutions" >&2
