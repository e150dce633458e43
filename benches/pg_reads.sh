#!/usr/bin/env bash
# Reads on SQLite and on PostgreSQL, one or more builds of the adapter side by side:
# GetPersonsForProfile P3 for random persons among 100,000 imported with contact information
# (an sms and an e-mail each, the load bench's population), sent by oha over mutual TLS at
# 16 and 64 keep-alive connections, the audit journal on as in production.
#
#   benches/pg_reads.sh BINARY...          # e.g. an earlier commit's build, then this one's
#
# Needs oha, python3 and a PostgreSQL server (.ci/postgres.sh start; its environment
# exported: PU_ADAPTER_TEST_POSTGRES_URL, PU_ADAPTER_TEST_POSTGRES_CA). Each backend is
# imported once, with the first binary; every binary then serves the same data in turn, and
# the rounds alternate binaries so a machine that gets busier hurts them alike.
# PU_ADAPTER_BENCH_SECONDS (default 10) per measurement, PU_ADAPTER_BENCH_ROUNDS (default 2).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
oha=$(command -v oha || echo "$HOME/.cargo/bin/oha")
[ -x "$oha" ] || { echo "oha not found" >&2; exit 1; }
: "${PU_ADAPTER_TEST_POSTGRES_URL:?start .ci/postgres.sh and export its environment}"
secs=${PU_ADAPTER_BENCH_SECONDS:-10}
rounds=${PU_ADAPTER_BENCH_ROUNDS:-2}
work=$(mktemp -d /tmp/pu-adapter-pg-reads.XXXXXX)
trap 'rm -rf "$work"' EXIT
certs=$repo/certs-dev

# The population and the requests: the same persons and order as the load bench.
python3 - "$work" <<'EOF'
import sys
work = sys.argv[1]
def luhn(payload):
    s = 0
    for i, c in enumerate(payload):
        d = int(c) * (2 if i % 2 == 0 else 1)
        s += d - 9 if d > 9 else d
    return (10 - s % 10) % 10
def pnr(i):
    day = i % (80 * 336)
    year, rest = 1930 + day // 336, day % 336
    base = f"{year:04}{rest // 28 + 1:02}{rest % 28 + 1:02}{(i // (80 * 336)) % 1000:03}"
    return base + str(luhn(base[2:11]))
N = 100_000
with open(f"{work}/population.jsonl", "w") as f:
    for i in range(N):
        contacts = (f',"contactInformation":[{{"contactType":"sms","value":"+4670{i % 10_000_000:07}","digitalNotification":true}},'
                    f'{{"contactType":"email","value":"person{i}@example.se","digitalNotification":true}}]')
        f.write(f'{{"personId":"{pnr(i)}","givenName":"Förnamn{i}","surname":"Efternamn","postalAddress":'
                f'{{"street":"Gatan {i % 200}","postalCode":"{10000 + i % 89999:05}","city":"Staden"}},"testIndicator":true{contacts}}}\n')
x = 0x2545_F491_4F6C_DD1D
M = (1 << 64) - 1
with open(f"{work}/reads.lines", "w") as f:
    for _ in range(10_000):
        x ^= (x << 13) & M
        x ^= x >> 7
        x ^= (x << 17) & M
        f.write('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><LogicalAddress xmlns="urn:riv:itintegration:registry:1">SE-LA</LogicalAddress></s:Header><s:Body><GetPersonsForProfile xmlns="urn:riv:strategicresourcemanagement:persons:person:GetPersonsForProfileResponder:5" xmlns:c="urn:riv:strategicresourcemanagement:persons:person:5"><personId><c:root>1.2.752.129.2.1.3.1</c:root>'
                f'<c:extension>{pnr(x % N)}</c:extension></personId><profile>P3</profile><ignoreReferredIdentity>false</ignoreReferredIdentity></GetPersonsForProfile></s:Body></s:Envelope>\n')
EOF

db="pu_bench_reads_$$"
psql_url="$PU_ADAPTER_TEST_POSTGRES_URL"
pg_url="$psql_url dbname=$db"
python3 - "$psql_url" "$db" <<'EOF'
import subprocess, sys
kv = dict(p.split("=", 1) for p in sys.argv[1].split())
subprocess.run(["psql", "-h", kv["host"], "-p", kv["port"], "-U", kv.get("user", "postgres"), "-d", "postgres",
                "-qc", f"CREATE DATABASE {sys.argv[2]}"], check=True)
EOF

# One configuration per backend; the journal and the SQLite file in the backend's directory.
config() { # backend port
  local dir=$work/$1 store
  if [ "$1" = sqlite ]; then
    store='kind = "sqlite"'
  else
    store="kind = \"postgresql\"
postgres_url = \"$pg_url\"
${PU_ADAPTER_TEST_POSTGRES_CA:+postgres_ca = \"$PU_ADAPTER_TEST_POSTGRES_CA\"}"
  fi
  cat > "$dir/config.toml" <<EOT
admin_listen = ""
listen = "127.0.0.1:$2"
data_dir = "$dir"
[tls]
cert = "$certs/server.pem"
key = "$certs/server.key"
client_ca = "$certs/ca.pem"
allow_development_certificates = true
[store]
$store
[[consumers]]
hsa_id = "SE2321000016-1001"
contracts = ["*"]
EOT
  echo "$dir/config.toml"
}

port=$((20000 + RANDOM % 20000))
for backend in sqlite postgresql; do
  mkdir -p "$work/$backend"
  started=$(date +%s%N)
  "$1" import --config "$(config $backend $port)" "$work/population.jsonl" >/dev/null
  echo "setup: $backend: 100,000 persons with contact information imported in $(( ($(date +%s%N) - started) / 1000000 )) ms"
done

measure() { # binary backend conns
  local cfg pid out
  cfg=$(config "$2" "$port")
  PU_ADAPTER_LOG=warn "$1" serve --config "$cfg" >/dev/null 2>"$work/serve.log" &
  pid=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  # Warm-up: connections, prepared statements, the page cache.
  "$oha" --no-tui -m POST -z 3s -c "$3" -H 'Content-Type: text/xml; charset=utf-8' -Z "$work/reads.lines" \
    --cert "$certs/consumer.pem" --key "$certs/consumer.key" --cacert "$certs/ca.pem" \
    "https://127.0.0.1:$port/GetPersonsForProfile/5/rivtabp21" >/dev/null 2>&1
  out=$("$oha" --no-tui --output-format json -m POST -z "${secs}s" -c "$3" -H 'Content-Type: text/xml; charset=utf-8' \
    -Z "$work/reads.lines" --cert "$certs/consumer.pem" --key "$certs/consumer.key" --cacert "$certs/ca.pem" \
    "https://127.0.0.1:$port/GetPersonsForProfile/5/rivtabp21" 2>/dev/null)
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true
  python3 -c '
import json, sys
v = json.loads(sys.argv[1]); s = v["statusCodeDistribution"]
ok = s.get("200", 0); other = sum(s.values()) - ok
rate = v["summary"]["requestsPerSec"]; lat = v["latencyPercentiles"]
p50, p99 = lat["p50"] * 1e3, lat["p99"] * 1e3
print(f"| {sys.argv[2]} | {sys.argv[3]} | {sys.argv[4]} | {rate:.0f} | {p50:.2f} | {p99:.2f} | {other} |")
' "$out" "$(basename "$1")" "$2" "$3"
}

echo "| binary | backend | connections | req/s | p50 ms | p99 ms | non-200 |"
echo "|---|---|---|---|---|---|---|"
for round in $(seq "$rounds"); do
  for conns in 16 64; do
    for backend in sqlite postgresql; do
      for bin in "$@"; do
        measure "$bin" "$backend" "$conns"
      done
    done
  done
done

python3 - "$psql_url" "$db" <<'EOF'
import subprocess, sys
kv = dict(p.split("=", 1) for p in sys.argv[1].split())
subprocess.run(["psql", "-h", kv["host"], "-p", kv["port"], "-U", kv.get("user", "postgres"), "-d", "postgres",
                "-qc", f"DROP DATABASE {sys.argv[2]}"], check=False)
EOF
