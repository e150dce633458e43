#!/usr/bin/env bash
# The JAX-WS RI suite: a JVM consumer as connected systems build one. Generates a client
# per contract with wsimport, from the published WSDL where SHARED_DIR has one and from our
# wsdl/ (with xsd/) otherwise, compiles the suite (the *.java here) against the clients,
# builds PKCS#12 key stores from the PEMs in CERT_DIR, and runs the suite over mutual TLS.
# The generated and compiled classes are kept under ${CARGO_TARGET_DIR:-target}/jaxws/,
# keyed by a hash of the WSDLs, the schemas, the suite's sources and the tools, so that a
# second run only starts the JVM. Needs wsimport (Debian: jaxws), a JDK and openssl.
# Usage: suite.sh BASE_URL CERT_DIR OUT_DIR [SHARED_DIR]
set -euo pipefail
base=$1 certs=$2 out=$3 shared=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
case $target_dir in /*) ;; *) target_dir=$root/$target_dir ;; esac
cache_root=$target_dir/jaxws

for tool in wsimport javac java keytool openssl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "jaxws: $tool missing" >&2; exit 1; }
done

# contract, WSDL version; the generated classes of each go to their own package, so that the
# published schemas and ours (same namespaces, different content) never meet in one.
contracts=(
  "GetPersonsForProfile 5.0"
  "GetPersonsForProfileUnrestricted 5.0"
  "GetPersonContactInformation 4.0"
  "GetPersonContactInformationUnrestricted 4.0"
  "UpdatePersonContactInformation 4.0"
  "UpdatePersonContactInformationUnrestricted 4.0"
  "PingForConfiguration 1.0"
)
published_dir=""
[ -n "$shared" ] && [ -d "$shared/reference-schemas/schemas" ] && published_dir=$(cd "$shared/reference-schemas/schemas" && pwd)

# The JAX-WS RI runtime: the jar next to wsimport's own (its manifest names the rest).
wsimport_home=$(dirname "$(dirname "$(readlink -f "$(command -v wsimport)")")")
runtime_cp=""
for jar in "$wsimport_home/lib/jaxws-rt.jar" /usr/share/java/jaxws-rt.jar; do
  [ -f "$jar" ] && { runtime_cp=$jar; break; }
done
[ -n "$runtime_cp" ] || { echo "jaxws: the JAX-WS RI runtime (jaxws-rt.jar) was not found beside wsimport" >&2; exit 1; }

# One line per contract: CONTRACT ORIGIN WSDL_PATH.
plan=()
for entry in "${contracts[@]}"; do
  read -r contract version <<<"$entry"
  wsdl_name=${contract}Interaction_${version}_RIVTABP21.wsdl
  published=${published_dir:+$published_dir/interactions/${contract}Interaction/$wsdl_name}
  if [ -n "$published" ] && [ -f "$published" ]; then
    plan+=("$contract published $published")
  else
    plan+=("$contract ours $root/wsdl/$wsdl_name")
  fi
done

# The key covers what the classes are made of, not where the files lie, so that the cache
# survives a moved checkout: each contract's origin and WSDL, every schema either WSDL may
# import, how wsimport is run, and the tools (their jars' sizes and dates stand for their
# versions: asking wsimport and javac for them costs a JVM start each).
hash_inputs() {
  local line contract origin wsdl
  for line in "${plan[@]}"; do
    read -r contract origin wsdl <<<"$line"
    echo "$contract $origin $(sha256sum <"$wsdl")"
  done
  sha256sum <"$here/generate/Wsimport.java"
  (cd "$root" && find xsd -name '*.xsd' -type f | sort | xargs sha256sum)
  [ -z "$published_dir" ] || (cd "$published_dir" && find . -name '*.xsd' -type f | sort | xargs sha256sum)
  ls -lL --time-style=+%s "$wsimport_home/lib"
  readlink -f "$(command -v javac)"
}
gen_key=$(hash_inputs | sha256sum | cut -c1-16)
run_key=$( (echo "$gen_key"; cd "$here" && sha256sum ./*.java) | sha256sum | cut -c1-16)
gen=$cache_root/gen-$gen_key
classes=$cache_root/classes-$run_key

# Every JVM here is short-lived: the C1 compiler alone (no C2) halved the suite's CPU time
# and its wall time on a loaded two-core machine went from 19 s to 7 s.
jvm=(-XX:TieredStopAtLevel=1)

package_of() { echo "interop.gen.$(echo "$1" | tr '[:upper:]' '[:lower:]')"; }

# Builds into a scratch directory and renames it into place, so that an interrupted or
# concurrent build never leaves a half-filled cache entry behind.
generate() {
  local tmp line contract origin wsdl pairs=()
  tmp=$(mktemp -d "$cache_root/.gen.XXXXXX")
  mkdir -p "$tmp/src" "$tmp/unused"
  for line in "${plan[@]}"; do
    read -r contract origin wsdl <<<"$line"
    pairs+=("$(package_of "$contract")" "$wsdl")
  done
  # -Xnocompile (in Wsimport.java): javac below compiles everything at once.
  java "${jvm[@]}" -cp "$wsimport_home/lib/jaxws-tools.jar" "$here/generate/Wsimport.java" "$tmp/src" "$tmp/unused" "${pairs[@]}" >&2
  rm -rf "$tmp/unused"
  mv -T "$tmp" "$gen" 2>/dev/null || rm -rf "$tmp"
}

compile() {
  local tmp
  tmp=$(mktemp -d "$cache_root/.classes.XXXXXX")
  find "$gen/src" -name '*.java' >"$tmp/sources"
  find "$here" -maxdepth 1 -name '*.java' >>"$tmp/sources"
  javac "${jvm[@]/#/-J}" -nowarn -encoding UTF-8 -cp "$runtime_cp" -d "$tmp" "@$tmp/sources" >&2
  rm -f "$tmp/sources"
  mv -T "$tmp" "$classes" 2>/dev/null || rm -rf "$tmp"
}

mkdir -p "$cache_root"
started=$(date +%s%N)
built=cached
if [ ! -d "$gen" ]; then generate; built=built; fi
if [ ! -d "$classes" ]; then compile; built=built; fi
# Old entries are of no further use once the current ones exist.
find "$cache_root" -mindepth 1 -maxdepth 1 -type d ! -name '.*' ! -name "gen-$gen_key" ! -name "classes-$run_key" -exec rm -rf {} +
echo "jaxws: client $built in $((($(date +%s%N) - started) / 1000000)) ms ($cache_root)"

# Key stores from the PEMs, made afresh each run (they hold the dev keys only).
keys=$(mktemp -d /tmp/pu-jaxws-keys.XXXXXX)
trap 'rm -rf "$keys"' EXIT
password=interop-dev
for cert in consumer extended; do
  openssl pkcs12 -export -in "$certs/$cert.pem" -inkey "$certs/$cert.key" -name "$cert" \
    -passout "pass:$password" -out "$keys/$cert.p12"
done
keytool -importcert -noprompt -alias ca -file "$certs/ca.pem" -storetype PKCS12 \
  -keystore "$keys/trust.p12" -storepass "$password" >/dev/null 2>&1 ||
  { echo "jaxws: keytool could not import $certs/ca.pem" >&2; exit 1; }

# The SAAJ implementation named directly: the service-file lookup warns on every message.
props=(-Dkeys="$keys" -Dpassword="$password" -Djavax.xml.soap.SAAJMetaFactory=com.sun.xml.messaging.saaj.soap.SAAJMetaFactoryImpl)
for line in "${plan[@]}"; do
  read -r contract origin wsdl <<<"$line"
  props+=("-Dwsdl.$contract=$wsdl" "-Dorigin.$contract=$origin")
done
status=0
java "${jvm[@]}" -cp "$classes:$runtime_cp" "${props[@]}" interop.Suite "$base" "$out" || status=$?
echo "jaxws: $((($(date +%s%N) - started) / 1000000)) ms in all"
exit $status
