"""Validates every message the interop suites received with xmllint: each envelope
against the SOAP 1.1 envelope schema, each response payload against our xsd/ and, where
../shared has it, the published schema. When the shared directory (SHARED_DIR, by default
../shared next to the repository) exists, at least one message must have been validated
against a published schema; when it does not, that part is skipped and said so.
Usage: validate_captured.py OUT_DIR [SHARED_DIR]"""
import glob
import os
import subprocess
import sys
import tempfile

from lxml import etree

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "../.."))
OUT = sys.argv[1]
SHARED = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "..", "shared")
if not os.path.isdir(SHARED):
    SHARED = None
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
VERSIONS = {"GetPersonsForProfile": "5.0", "PingForConfiguration": "1.0"}


def version(contract):
    return VERSIONS.get(contract.replace("Unrestricted", ""), "4.0")


def xmllint(schema, path):
    r = subprocess.run(["xmllint", "--noout", "--schema", schema, path], capture_output=True, text=True)
    return r.returncode == 0, r.stderr.strip()


files = sorted(glob.glob(os.path.join(OUT, "*", "*.xml")))
validations, published, failures = 0, 0, []
with tempfile.TemporaryDirectory() as tmp:
    for f in files:
        ok, err = xmllint(os.path.join(ROOT, "tests/schemas/soap-envelope-1.1.xsd"), f)
        validations += 1
        if not ok:
            failures.append(f"{f}: envelope: {err}")
        body = etree.parse(f).getroot().find(f"{{{SOAP11}}}Body")
        payload = next(iter(body), None) if body is not None else None
        if payload is None or etree.QName(payload).localname == "Fault":
            continue
        contract = etree.QName(payload).localname.removesuffix("Response")
        xsd = f"{contract}Responder_{version(contract)}.xsd"
        schemas = [(os.path.join(ROOT, "xsd", xsd), False)]
        if SHARED:
            reference = os.path.join(SHARED, "reference-schemas/schemas/interactions", f"{contract}Interaction", xsd)
            if os.path.isfile(reference):
                schemas.append((reference, True))
        part = os.path.join(tmp, os.path.basename(f))
        with open(part, "wb") as out:
            out.write(etree.tostring(payload))
        for schema, is_published in schemas:
            ok, err = xmllint(schema, part)
            validations += 1
            if not ok:
                failures.append(f"{f}: {os.path.basename(schema)}: {err}")
            elif is_published:
                published += 1

print(f"schema check: {len(files)} messages, {validations} validations ({published} against the published schemas), {len(failures)} failures")
for line in failures:
    print(f"  {line}", file=sys.stderr)
checks = validations + 1  # each validation, and: some messages were captured
if not files:
    failures.append(f"no captured messages under {OUT}")
    print(f"schema check: no captured messages under {OUT}", file=sys.stderr)
if SHARED is None:
    print("skipped: ../shared not present")
else:
    checks += 1  # some messages were validated against the published schemas
    if published == 0:
        failures.append("no message validated against the published schemas")
        print(f"schema check: {SHARED} is present but no message was validated against its published schemas", file=sys.stderr)
print(f"interop: schema check: {checks - len(failures)} checks passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
