#!/usr/bin/env bash
# Runs the whole test suite: unit, contract (xmllint against our and the published
# schemas), storage (SQLite, and PostgreSQL when its server is installed), mutual-TLS
# integration, properties and robustness, then the interoperability suites (zeep, Node
# soap, raw wire; tests/interop/run.sh). Prints a total line at the end.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v xmllint >/dev/null 2>&1; then
  echo "note: xmllint missing (apt-get install libxml2-utils): schema checks will be skipped" >&2
fi

pg_dir=""
if [ -z "${PU_ADAPTER_TEST_POSTGRES_URL:-}" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  pg_env=$(.ci/postgres.sh start) || { echo "could not start a temporary PostgreSQL (see /tmp/pu-adapter-pg.*/server.log)" >&2; exit 1; }
  eval "$pg_env"
  pg_dir=$PGDATA_DIR
  trap '.ci/postgres.sh stop "$pg_dir"' EXIT
elif [ -z "${PU_ADAPTER_TEST_POSTGRES_URL:-}" ]; then
  echo "note: no PostgreSQL server installed (apt-get install postgresql): the storage suite runs on SQLite only" >&2
fi

log=$(mktemp)
status=0
extra_failed=0
# The conformance command's test against the Node peer needs node and the peer's packages;
# without them it is skipped with a note, and in CI it fails naming what is missing.
if command -v npm >/dev/null 2>&1 && [ ! -d tests/interop/node/node_modules ]; then
  (cd tests/interop/node && npm ci --no-audit --no-fund --silent) ||
    echo "note: npm ci in tests/interop/node failed: the Node-peer conformance test is skipped (fails in CI)" >&2
elif ! command -v npm >/dev/null 2>&1; then
  echo "note: npm missing (apt-get install nodejs npm): the Node-peer conformance test is skipped (fails in CI)" >&2
fi
# --no-fail-fast: every test binary runs, so the total counts them all.
cargo test --locked --no-fail-fast 2>&1 | tee "$log" || status=$?
# A test binary that dies (abort, signal) prints no result line, and a build error none at
# all: each target cargo reports failed beyond those with a FAILED result line counts as one.
failed_targets=$(grep -Ec '^error: (test|doctest) failed, to rerun pass' "$log" || true)
failed_results=$(grep -Ec '^test result: FAILED\.' "$log" || true)
if [ "$failed_targets" -gt "$failed_results" ]; then
  echo "cargo test: $((failed_targets - failed_results)) test target(s) failed without a result line (crashed?): counted as failed" >&2
  extra_failed=$((extra_failed + failed_targets - failed_results))
elif [ $status -ne 0 ] && [ "$failed_targets" -eq 0 ] && [ "$failed_results" -eq 0 ]; then
  echo "cargo test failed before any test ran (a build error?): counted as 1 failed" >&2
  extra_failed=$((extra_failed + 1))
fi
cargo build --locked --benches --quiet 2>&1 || { echo "benchmarks do not build: counted as 1 failed" >&2; status=1; extra_failed=$((extra_failed + 1)); }
# Interoperability: zeep (live and published WSDLs), Node soap, raw wire, xmllint on every
# message. Each suite prints "interop: SUITE: P checks passed, F failed" (tests/interop/run.sh).
interop_log=$(mktemp)
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && command -v xmllint >/dev/null 2>&1 && python3 -c 'import venv' 2>/dev/null; then
  interop_status=0
  tests/interop/run.sh 2>&1 | tee "$interop_log" || interop_status=$?
  if [ $interop_status -ne 0 ]; then
    status=1
    if ! grep -Eq '^interop: [^:]+: [0-9]+ checks passed, [1-9][0-9]* failed$' "$interop_log"; then
      echo "interop: tests/interop/run.sh failed (status $interop_status) without a failed suite: counted as 1 failed" >&2
      extra_failed=$((extra_failed + 1))
    fi
  fi
elif [ -n "${CI:-}" ]; then
  echo "interop: python3, node/npm and xmllint are required in CI: counted as 1 failed" >&2; status=1; extra_failed=$((extra_failed + 1))
else
  echo "skipped: interop suites need python3 (venv), node/npm and xmllint" >&2
fi

# Packaging: the Containerfile (hadolint) and the systemd unit (systemd-analyze verify).
packaging/lint.sh 2>&1 | tee -a "$interop_log" || status=1

# cargo: "test result: ok. 12 passed; 0 failed; ..."; interop: "interop: zeep: 74 checks passed, 0 failed".
cargo_passed=$(sed -nE 's/^test result: [a-zA-Z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
cargo_failed=$(sed -nE 's/^test result: [a-zA-Z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\2/p' "$log" | awk '{s+=$1} END {print s+0}')
interop_passed=$(sed -nE 's/^interop: [^:]+: ([0-9]+) checks passed, ([0-9]+) failed$/\1/p' "$interop_log" | awk '{s+=$1} END {print s+0}')
interop_failed=$(sed -nE 's/^interop: [^:]+: ([0-9]+) checks passed, ([0-9]+) failed$/\2/p' "$interop_log" | awk '{s+=$1} END {print s+0}')
rm -f "$log" "$interop_log"
passed=$((cargo_passed + interop_passed))
failed=$((cargo_failed + interop_failed + extra_failed))
[ $failed -eq 0 ] || status=1
other=""
[ $extra_failed -eq 0 ] || other="; ${extra_failed} other failures, see above"
echo "total: ${passed} passed, ${failed} failed (cargo test ${cargo_passed} passed, ${cargo_failed} failed; interop ${interop_passed} checks passed, ${interop_failed} failed${other})"
exit $status
