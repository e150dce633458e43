#!/usr/bin/env bash
# TLS audit: runs testssl.sh (Debian package testssl.sh) against a running pu-adapter with
# the development client certificate, and fails on any finding rated HIGH or CRITICAL.
# Usage: scripts/tls-audit.sh   (takes a few minutes; not part of ./test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v testssl >/dev/null || { echo "install testssl.sh: apt-get install testssl.sh" >&2; exit 2; }
work=$(mktemp -d /tmp/pu-tls-audit.XXXXXX)
bin=${PU_ADAPTER_BIN:-target/release/pu-adapter}
[ -x "$bin" ] || cargo build --release --quiet --bin pu-adapter
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" serve --listen "127.0.0.1:$port" --admin-listen "" --data-dir "$work/data" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
# testssl.sh 3.0 (Debian 12) has no --mtls: protocols, ciphers and key exchange are
# negotiated in the ServerHello, before the server asks for the client certificate.
mtls=()
testssl --help 2>&1 | grep -q -- "--mtls" && { cat certs-dev/consumer.pem certs-dev/consumer.key >"$work/client.pem"; mtls=(--mtls "$work/client.pem"); }
testssl --quiet --color 0 --warnings off --add-ca "$PWD/certs-dev/ca.pem" "${mtls[@]}" --jsonfile "$work/testssl.json" "https://127.0.0.1:$port" >"$work/testssl.txt" 2>&1 || true
[ -s "$work/testssl.json" ] || { cat "$work/testssl.txt" >&2; exit 2; }
python3 - "$work/testssl.json" <<'PY'
import json, sys
findings = json.load(open(sys.argv[1]))
by = {}
for f in findings:
    by.setdefault(f.get("severity", "?"), []).append(f)
def show(ids):
    for f in findings:
        if f["id"] in ids:
            print(f"  {f['id']:<22} {f['finding']}")
print("testssl.sh summary (pu-adapter; the server requires a client certificate):")
show({"SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3", "cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW", "cipherlist_3DES_IDEA", "cipherlist_AVERAGE", "cipherlist_STRONG", "FS", "clientAuth"})
print("  severities: " + ", ".join(f"{k} {len(v)}" for k, v in sorted(by.items())))
for f in by.get("LOW", []) + by.get("MEDIUM", []):
    print(f"  {f['severity']}: {f['id']}: {f['finding']}")
# Properties of the development certificate (30 years, no CRL/OCSP by design), not of the
# TLS configuration; a production certificate from a real CA has neither.
DEV_CERT = {"cert_validityPeriod", "cert_revocation"}
serious = by.get("HIGH", []) + by.get("CRITICAL", [])
for f in serious:
    note = "  (expected for the development certificate)" if f["id"] in DEV_CERT else ""
    print(f"  {f['severity']}: {f['id']}: {f['finding']}{note}")
bad = [f for f in serious if f["id"] not in DEV_CERT]
print("  result: " + ("FAIL" if bad else "no HIGH or CRITICAL finding about the TLS configuration"))
sys.exit(1 if bad else 0)
PY
