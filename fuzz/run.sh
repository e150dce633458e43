#!/usr/bin/env bash
# Bounded fuzzing with libFuzzer, without installing cargo-fuzz: builds the targets with
# the same coverage instrumentation cargo-fuzz uses (on the stable toolchain through
# RUSTC_BOOTSTRAP=1) and runs each for FUZZ_SECONDS (default 30) from the committed seed
# corpus. A crash fails the run and leaves its input in fuzz/artifacts/<target>/.
# Long runs: cargo install cargo-fuzz; RUSTC_BOOTSTRAP=1 cargo fuzz run envelope -- -max_total_time=3600
set -euo pipefail
cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-30}
export RUSTC_BOOTSTRAP=1
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-../target/fuzz}
# An explicit --target keeps the instrumentation off build scripts and proc macros.
triple=$(rustc -vV | sed -n 's/^host: //p')
cargo build --release --locked --quiet --bins --target "$triple"
total=0
for target in envelope validators identity; do
  work=$(mktemp -d)
  mkdir -p "artifacts/$target"
  out=$("$CARGO_TARGET_DIR/$triple/release/$target" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=1024 -artifact_prefix="artifacts/$target/" "$work" "corpus/$target" 2>&1) || { echo "$out" | tail -30; echo "fuzz: $target FAILED" >&2; exit 1; }
  # libFuzzer ends a bounded run with "Done N runs in S second(s)": without that line, or
  # with N = 0, nothing was fuzzed and the run must not pass.
  runs=$(printf '%s\n' "$out" | grep -Eo 'Done [0-9]+ runs' | tail -n 1 | grep -Eo '[0-9]+' || true)
  if [ -z "$runs" ]; then
    printf '%s\n' "$out" | tail -30
    echo "fuzz: $target FAILED: no \"Done N runs\" line from libFuzzer, so no executions were reported" >&2
    exit 1
  fi
  if [ "$runs" -eq 0 ]; then
    printf '%s\n' "$out" | tail -30
    echo "fuzz: $target FAILED: 0 executions (Done 0 runs)" >&2
    exit 1
  fi
  echo "fuzz: $target: $runs executions in ${seconds}s, no crash"
  total=$((total + runs))
  rm -rf "$work"
done
echo "fuzz: $total executions in all"
