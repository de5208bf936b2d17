#!/usr/bin/env bash
# Builds the seed corpus in fuzz/corpus/<target>/ from ../shared/real-tags/*.tsv, the comment
# bodies of ../shared/github-events/issue_comment*.json and hand-written seeds (DESIGN §2, §7).
# Deterministic: the same inputs give the same files.
# Usage: fuzz/seeds.sh [SHARED_DIR]   (default $ROLLBACK_SHARED_DIR, else ../shared beside the checkout)
set -euo pipefail
cd "$(dirname "$0")"
shared="${1:-${ROLLBACK_SHARED_DIR:-../../shared}}"
[ -d "$shared/real-tags" ] || shared="/work/shared"
out=corpus
rm -rf "$out"
mkdir -p "$out"/{tag_match,comment,inputs,output_roundtrip,manifest,workflow,semver_req}

seed() { # seed TARGET < content; the file is named after a checksum of its content
  local target="$1" tmp
  tmp="$(mktemp)"
  cat > "$tmp"
  mv "$tmp" "$out/$target/seed-$(cksum < "$tmp" | cut -d' ' -f1)"
}

# Tag names: every 20th tag of each repository (a few hundred in all), paired with templates
# that fit the repositories' naming schemes.
templates=('{service}/v{version}' '{service}-v{version}' 'v{version}' '{version}' '@changesets/{service}@{version}' 'bridges/{service}/v{version}')
i=0
for tsv in "$shared"/real-tags/*.tsv; do
  tail -n +2 "$tsv" | cut -f1 | awk 'NR % 20 == 1' | while IFS= read -r tag; do
    t="${templates[$((i % ${#templates[@]}))]}"
    i=$((i + 1))
    printf '%s\n%s' "$t" "$tag" > "$out/tag_match/$(printf '%s' "$tag" | cksum | cut -d' ' -f1)"
    printf '%s' "${tag##*[@/v]}" > "$out/semver_req/$(printf '%s' "$tag" | cksum | cut -d' ' -f1)"
  done
done
for t in 'api-v{version}' '{service}-v{version}' 'api-gateway-v{version}' '{{lit}}{version}+{environment}'; do
  for tag in api-v1.4.0 api-gateway-v9.0.0 api-v1 api-v01.2.3 api-vV1.2.3 'api-v1.2.3-rc.1+b5' 'api-v1.2.3 '; do
    printf '%s\n%s' "$t" "$tag" | seed tag_match
  done
done
for r in '1.3.2' 'v1.3.2' '~1.3' '^1' '1.*' '>=1.2, <1.3' '>=2.0.0, <2.0.3' '1.0.0-alpha.1+build.5' '=1.2.3' '*'; do
  printf '%s' "$r" | seed semver_req
done

# Comment bodies: the recorded events and the grammar of DESIGN §7.
for ev in "$shared"/github-events/issue_comment*.json; do
  jq -j '.comment.body' "$ev" | seed comment
done
for c in '/rollback api' '/rollback api to 1.3.2' '/rollback api 1.3.2' '/rollback api back 2' \
  '/rollback api in staging' '/rollback plan api to >=1.2,  <1.3 in staging' '/rollback help' \
  '/rollback' '/rollbacks api' '    /rollback api' '> /rollback api' '/rollback api to api/v1.3.2' \
  '/rollback web back 0' '/rollback api in a in b'; do
  printf '%s\r\nbroke checkout\n\n  see #12 \n' "$c" | seed comment
  printf '%s' "$c" | seed comment
done
printf '\xef\xbb\xbf/rollback api to 1.2.3\n' | seed comment

# INPUT_* variables as KEY=value lines.
printf 'INPUT_SERVICE=api\nINPUT_DRY-RUN=true\nINPUT_DRY_RUN=false\nINPUT_STEPS=2\nINPUT_TIMEOUT=1h30m\nINPUT_STRATEGY=Steps\n' | seed inputs
printf 'INPUT_TO= \nINPUT_WAIT=TRUE\nINPUT_COMMENT-PREFIX=/rollback\nINPUT_MIN-PERMISSION=maintain\nGITHUB_OUTPUT=/tmp/x\n' | seed inputs
printf 'INPUT_STEPS=007\nINPUT_STEPS=4294967296\nINPUT_TIMEOUT=soon\nINPUT_DRY-RUN=yes\n' | seed inputs

# $GITHUB_OUTPUT values.
printf 'true' | seed output_roundtrip
printf '{"service":"api","waves":[]}' | seed output_roundtrip
printf 'line one\nEOF\nline three' | seed output_roundtrip
printf 'a\r\nb\rc\n' | seed output_roundtrip
printf 'x\nghadelimiter_00000000000000000000000000000000\ny' | seed output_roundtrip
printf '\n\n' | seed output_roundtrip

# The manifest of DESIGN §2 and small variants.
cat <<'YAML' | seed manifest
defaults:
  environment: production
  tag: "{service}/v{version}"
  deploy-tag: "deploy/{environment}/{service}"
  workflow: deploy.yml
  ref: "{default_branch}"
  inputs:
    version: "{version}"
  prereleases: false
  require-release: false
  skip: []
  cascade: redeploy
services:
  db: {}
  auth:
    depends-on: [db]
  api:
    depends-on: [auth, db]
    workflow: deploy-api.yml
  web:
    repo: acme/web
    tag: "v{version}"
    depends-on: [api]
    cascade: rollback
YAML
cat <<'YAML' | seed manifest
environments: [production, staging]
defaults:
  skip: ["1.3.0", ">=2.0.0, <2.0.3"]
services:
  api:
    depends-on: [auth]
  auth:
    depends-on: [api]
YAML
printf 'services:\n  plan: {}\n  Bad Name: {tag: "{nope}"}\n' | seed manifest

# Workflows with workflow_dispatch inputs.
cat <<'YAML' | seed workflow
name: Deploy
run-name: "Deploy ${{ inputs.version }} to ${{ inputs.environment }}"
on:
  workflow_dispatch:
    inputs:
      version:
        description: Version to deploy
        required: true
        type: string
      environment:
        type: environment
        required: false
      dry-run:
        type: boolean
        default: false
      replicas:
        type: number
        default: 3
      region:
        type: choice
        options: [eu, us]
        default: eu
  push:
    tags: ["v*"]
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - run: echo deploy
YAML
printf 'on: [push, workflow_dispatch]\njobs: {}\n' | seed workflow
printf 'on: workflow_dispatch\n' | seed workflow
printf 'true: push\n' | seed workflow

du -sh --apparent-size "$out"
for d in "$out"/*; do printf '%s %s\n' "$(find "$d" -type f | wc -l)" "$d"; done
