"""Validates every message the interop suites received with xmllint: each envelope
against the SOAP 1.1 envelope schema, each response payload against our xsd/ and, where
../shared has it, the published schema. Usage: validate_captured.py OUT_DIR [SHARED_DIR]"""
import glob
import os
import subprocess
import sys
import tempfile

from lxml import etree

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "../.."))
OUT = sys.argv[1]
SHARED = sys.argv[2] if len(sys.argv) > 2 else None
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
VERSIONS = {"GetPersonsForProfile": "5.0", "PingForConfiguration": "1.0"}


def version(contract):
    return VERSIONS.get(contract.replace("Unrestricted", ""), "4.0")


def xmllint(schema, path):
    r = subprocess.run(["xmllint", "--noout", "--schema", schema, path], capture_output=True, text=True)
    return r.returncode == 0, r.stderr.strip()


files = sorted(glob.glob(os.path.join(OUT, "*", "*.xml")))
validations, failures = 0, []
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
        schemas = [os.path.join(ROOT, "xsd", xsd)]
        if SHARED:
            published = os.path.join(SHARED, "reference-schemas/schemas/interactions", f"{contract}Interaction", xsd)
            if os.path.isfile(published):
                schemas.append(published)
        part = os.path.join(tmp, os.path.basename(f))
        with open(part, "wb") as out:
            out.write(etree.tostring(payload))
        for schema in schemas:
            ok, err = xmllint(schema, part)
            validations += 1
            if not ok:
                failures.append(f"{f}: {os.path.basename(schema)}: {err}")

print(f"schema check: {len(files)} messages, {validations} validations, {len(failures)} failures")
for line in failures:
    print(f"  {line}", file=sys.stderr)
sys.exit(1 if failures or not files else 0)
