#!/usr/bin/env bash
# A real rollback, end to end, offline: builds `rollback`, makes a scratch git repository with
# three services (db <- api <- web), annotated version tags and lightweight deploy tags, then
# plans and applies a rollback of `api` with the local git backend. No network, no token.
# The first build takes a few minutes; later runs start at once.
#
#   examples/quickstart/run.sh            # in a new temporary directory
#   examples/quickstart/run.sh /tmp/demo  # in a directory of your choice (must not exist)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
repo=${1:-$(mktemp -d "${TMPDIR:-/tmp}/rollback-quickstart.XXXXXX")}
[ -e "$repo/.git" ] && { echo "error: $repo is already a git repository; give a new directory" >&2; exit 2; }
mkdir -p "$repo"

echo "== building rollback (the first build takes a few minutes)"
cargo build --quiet --manifest-path "$root/Cargo.toml" --bin rollback
rollback="${CARGO_TARGET_DIR:-$root/target}/debug/rollback"

echo "== preparing a scratch repository in $repo"
g() { git -C "$repo" -c user.name=Quickstart -c user.email=quickstart@example.com "$@"; }
g init -q -b main
mkdir -p "$repo/.github"
cat > "$repo/.github/rollback.yml" <<'YAML'
defaults:
  environment: production
  tag: "{service}/v{version}"
  deploy-tag: "deploy/{environment}/{service}"
services:
  db:
    command: ["echo", "deploying {service} {version} ({sha})"]
  api:
    depends-on: [db]
    skip: ["1.2.1"]          # a known-bad release: never picked
    command: ["echo", "deploying {service} {version} ({sha}) because: {reason}"]
  web:
    depends-on: [api]
    tag: "web-v{version}"
    command: ["echo", "redeploying {service} {version}"]
YAML
g add .github/rollback.yml
g commit -q -m "manifest"
release() { # release NAME... : one commit, tagged with each name
  g commit -q --allow-empty -m "release $*"
  for t in "$@"; do g tag -a -m "$t" "$t"; done
}
release db/v3.0.0 api/v1.0.0 web-v2.0.0
release api/v1.1.0
release api/v1.2.0 web-v2.1.0
release api/v1.2.1
release api/v1.3.0-rc.1
release api/v1.3.0 web-v2.2.0
g tag deploy/production/db db/v3.0.0
g tag deploy/production/api api/v1.3.0
g tag deploy/production/web web-v2.2.0

echo "== deploy tags before"
for t in db api web; do
  printf '   deploy/production/%s -> %s\n' "$t" "$(g rev-parse --short "deploy/production/$t^{commit}")"
done

echo
echo "== rollback plan --service api"
"$rollback" plan --git "$repo" --service api

echo "== rollback apply --service api"
"$rollback" apply --git "$repo" --service api --reason "quickstart: 1.3.0 returns 500s"

echo
echo "== deploy tags after"
for t in db api web; do
  printf '   deploy/production/%s -> %s (%s)\n' "$t" \
    "$(g rev-parse --short "deploy/production/$t^{commit}")" \
    "$(g describe --tags --exact-match --match "$t*" "deploy/production/$t^{commit}" 2>/dev/null || echo '?')"
done
echo
echo "== the audit record in deploy/production/api"
g cat-file tag deploy/production/api | sed -n '/^$/,$p' | sed 's/^/   /'
echo "Scratch repository kept at $repo"
