#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each, one after another, one process at
# a time. Not part of scripts/test.sh: CI calls it when asked. Needs a nightly toolchain and
# cargo-fuzz (`cargo install cargo-fuzz --locked`).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      default 60 seconds, all targets
#
# New inputs go to $FUZZ_WORK/<target> (default target/fuzz-corpus), so the committed seed corpus
# in fuzz/corpus stays small; crashes go to fuzz/artifacts/<target>/ and fail the script.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(tag_match comment inputs output_roundtrip manifest workflow semver_req)
work="${FUZZ_WORK:-${CARGO_TARGET_DIR:-target}/fuzz-corpus}"

[ -d fuzz/corpus/tag_match ] || fuzz/seeds.sh
failed=()
for t in "${targets[@]}"; do
  mkdir -p "$work/$t"
  printf '\n== fuzz %s for %ss\n' "$t" "$seconds"
  # Safe Rust only: no sanitizer (panics and failed assertions are what we look for), with
  # debug assertions so integer overflow panics too.
  if ! cargo +nightly fuzz run --sanitizer none --debug-assertions "$t" "$work/$t" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1; then
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "error: fuzz targets failed: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
