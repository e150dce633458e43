#!/usr/bin/env bash
# Runs the whole test suite: unit, contract (xmllint against our and the published
# schemas), storage (SQLite, and PostgreSQL when its server is installed), mutual-TLS
# integration, properties and robustness. Prints a total line at the end.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v xmllint >/dev/null 2>&1; then
  echo "note: xmllint missing (apt-get install libxml2-utils): schema checks will be skipped" >&2
fi

pg_dir=""
if [ -z "${PU_ADAPTER_TEST_POSTGRES_URL:-}" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  eval "$(.ci/postgres.sh start)"
  pg_dir=$PGDATA_DIR
  trap '.ci/postgres.sh stop "$pg_dir"' EXIT
elif [ -z "${PU_ADAPTER_TEST_POSTGRES_URL:-}" ]; then
  echo "note: no PostgreSQL server installed (apt-get install postgresql): the storage suite runs on SQLite only" >&2
fi

log=$(mktemp)
status=0
cargo test --locked 2>&1 | tee "$log" || status=$?
cargo check --locked --benches --quiet 2>&1 || { echo "benchmarks do not build" >&2; status=1; }
passed=$(grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
rm -f "$log"
echo "total: ${passed} passed, ${failed} failed"
exit $status
