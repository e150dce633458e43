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
cargo test --locked 2>&1 | tee "$log" || status=$?
cargo build --locked --benches --quiet 2>&1 || { echo "benchmarks do not build" >&2; status=1; }
# Interoperability: zeep (live and published WSDLs), Node soap, raw wire, xmllint on every message.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && command -v xmllint >/dev/null 2>&1 && python3 -c 'import venv' 2>/dev/null; then
  tests/interop/run.sh 2>&1 | tee -a "$log" || status=1
elif [ -n "${CI:-}" ]; then
  echo "interop: python3, node/npm and xmllint are required in CI" >&2; status=1
else
  echo "skipped: interop suites need python3 (venv), node/npm and xmllint" >&2
fi

passed=$(grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
rm -f "$log"
echo "total: ${passed} passed, ${failed} failed"
exit $status
