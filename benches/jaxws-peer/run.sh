#!/usr/bin/env bash
# The JAX-WS RI peer for the load bench (see README.md in this directory).
# Usage: benches/jaxws-peer/run.sh PORT
# Builds into ${CARGO_TARGET_DIR:-target}/jaxws-peer/ when the WSDL, the XSDs, the Java
# sources, the certificates or this script changed, then runs the peer; it prints
# "jaxws-peer ready on PORT" once warmed up. Exit 2: a tool is missing.
set -euo pipefail

port=${1:?usage: run.sh PORT}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out="${CARGO_TARGET_DIR:-$repo/target}/jaxws-peer"
wsdl="$repo/wsdl/GetPersonsForProfileInteraction_5.0_RIVTABP21.wsdl"
# Debian's libjaxws-java bundle: its manifest Class-Path names the rest (JAXB, SAAJ,
# StAX, activation, ...), all in /usr/share/java.
jaxws_rt=${JAXWS_RT:-/usr/share/java/jaxws-rt.jar}
storepass=changeit

missing() {
    echo "jaxws-peer: $1 not found; $2" >&2
    exit 2
}

need() {
    command -v "$1" >/dev/null 2>&1 || missing "$1" "$2"
}

inputs() {
    echo "$wsdl" "$0"
    ls "$repo"/xsd/GetPersonsForProfileResponder_5.0.xsd "$repo"/xsd/core_components/*.xsd
    find "$here/src" -name '*.java' | sort
    ls "$repo"/certs-dev/{server,consumer}.{pem,key} "$repo"/certs-dev/ca.pem
}

fingerprint() {
    inputs | xargs sha256sum | sed "s|$repo/||" | sha256sum | cut -c1-32
}

# PKCS#12 stores for the JDK: the server identity, the warm-up consumer's, and the CA
# both must chain to.
keystores() {
    local dir=$1 certs="$repo/certs-dev"
    for who in server consumer; do
        openssl pkcs12 -export -name "$who" -in "$certs/$who.pem" -inkey "$certs/$who.key" \
            -certfile "$certs/ca.pem" -out "$dir/$who.p12" -passout "pass:$storepass"
    done
    keytool -importcert -noprompt -alias ca -file "$certs/ca.pem" \
        -keystore "$dir/trust.p12" -storetype PKCS12 -storepass "$storepass" >/dev/null 2>&1
}

build() {
    need wsimport "install the Debian package jaxws (it provides wsimport)"
    need javac "install a JDK 17 (Debian: openjdk-17-jdk-headless)"
    need keytool "install a JDK 17 (Debian: openjdk-17-jdk-headless)"
    need openssl "install openssl"
    [ -f "$jaxws_rt" ] || missing "$jaxws_rt" "install the Debian package libjaxws-java"
    mkdir -p "$(dirname "$out")"
    local tmp
    tmp=$(mktemp -d "$out.build.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/gen" "$tmp/classes/wsdl" "$tmp/classes/xsd" "$tmp/stores"
    wsimport -quiet -Xnocompile -s "$tmp/gen" -d "$tmp/classes" "$wsdl" >&2
    # The WSDL and its imports on the class path, where @WebService(wsdlLocation) finds
    # them; the WSDL imports ../xsd/..., so the layout is kept.
    cp "$wsdl" "$tmp/classes/wsdl/"
    cp -r "$repo/xsd/." "$tmp/classes/xsd/"
    find "$tmp/gen" "$here/src" -name '*.java' >"$tmp/sources"
    javac -nowarn -encoding UTF-8 -cp "$jaxws_rt" -d "$tmp/classes" @"$tmp/sources" >&2
    keystores "$tmp/stores"
    fingerprint >"$tmp/fingerprint"
    rm -rf "$out"
    mv "$tmp" "$out"
    trap - EXIT
}

need java "install a JDK 17 (Debian: openjdk-17-jdk-headless)"
if [ "$(cat "$out/fingerprint" 2>/dev/null)" != "$(fingerprint)" ]; then
    echo "jaxws-peer: building into $out" >&2
    build
fi

# -Dsun.net.httpserver.nodelay=true: the JDK HttpServer leaves Nagle's algorithm on by
#   default, which holds a response's last segment until the client's delayed ACK.
# -Dcom.sun.xml.ws.monitoring.endpoint=false: JAX-WS RI would otherwise try to register
#   a JMX monitoring bean through gmbal, whose Debian package lacks a class it needs, and
#   log the NoClassDefFoundError at every start.
# -Djavax.xml.soap.SAAJMetaFactory: names the SAAJ implementation under the standard
#   property, instead of the deprecated lookup SAAJ warns about.
# Debian's JAXB runtime has no bytecode-injected accessors (no Injector), so JAXB uses
# reflection and no --add-opens is needed on JDK 17.
exec java \
    -Dsun.net.httpserver.nodelay=true \
    -Dcom.sun.xml.ws.monitoring.endpoint=false \
    -Djavax.xml.soap.SAAJMetaFactory=com.sun.xml.messaging.saaj.soap.SAAJMetaFactoryImpl \
    -Dpeer.stores="$out/stores" -Dpeer.storepass="$storepass" \
    -Dpeer.threads="${JAXWS_PEER_THREADS:-16}" -Dpeer.warmup="${JAXWS_PEER_WARMUP:-20000}" \
    -cp "$out/classes:$jaxws_rt" jaxwspeer.Peer "$port"
