"""Calls every contract through zeep clients generated from the live ?wsdl (over mutual
TLS with the dev certificates) and from the published WSDLs in ../shared, asserting on
the decoded values. Usage: zeep_suite.py BASE_URL CERT_DIR OUT_DIR [SHARED_DIR]"""
import os
import sys

import requests
import zeep
from lxml import etree
from zeep.plugins import Plugin
from zeep.transports import Transport

from common import LA, PNR, RESULT_NS, Capture, Tally

BASE, CERTS, OUT = sys.argv[1], sys.argv[2], sys.argv[3]
SHARED = sys.argv[4] if len(sys.argv) > 4 else None
t = Tally("zeep")
capture = Capture(OUT, "zeep")


class CapturePlugin(Plugin):
    def ingress(self, envelope, http_headers, operation):
        capture.save(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))
        return envelope, http_headers


def transport(cert):
    s = requests.Session()
    s.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise replace our CA
    s.cert = (f"{CERTS}/{cert}.pem", f"{CERTS}/{cert}.key")
    s.verify = f"{CERTS}/ca.pem"
    return Transport(session=s)


PATHS = {
    "GetPersonsForProfile": "/GetPersonsForProfile/5/rivtabp21",
    "GetPersonsForProfileUnrestricted": "/GetPersonsForProfileUnrestricted/5/rivtabp21",
    "GetPersonContactInformation": "/GetPersonContactInformation/4/rivtabp21",
    "GetPersonContactInformationUnrestricted": "/GetPersonContactInformationUnrestricted/4/rivtabp21",
    "UpdatePersonContactInformation": "/UpdatePersonContactInformation/4/rivtabp21",
    "UpdatePersonContactInformationUnrestricted": "/UpdatePersonContactInformationUnrestricted/4/rivtabp21",
    "PingForConfiguration": "/PingForConfiguration/1/rivtabp21",
}
_clients = {}


def service(contract, cert="consumer"):
    key = (contract, cert)
    if key not in _clients:
        _clients[key] = zeep.Client(BASE + PATHS[contract] + "?wsdl", transport=transport(cert), plugins=[CapturePlugin()])
    return getattr(_clients[key].service, contract)


def call(op, **kw):
    t.calls += 1
    return op(_soapheaders={"LogicalAddress": LA}, **kw)


def fault_of(op, **kw):
    try:
        call(op, **kw)
    except zeep.exceptions.Fault as f:
        return f
    return None


def pid(n):
    return {"root": PNR, "extension": n}


def gpfp(ids, profile, contract="GetPersonsForProfile", cert="consumer"):
    return call(service(contract, cert), personId=[pid(i) for i in ids], profile=profile, ignoreReferredIdentity=False)


def values(record):
    return [(c.contactType, c.value, c.digitalNotification) for c in (record.contactInformation or [])]


def error_code(result):
    for el in result._value_1 or []:
        if getattr(el, "tag", None) == f"{{{RESULT_NS}}}errorCode":
            return el.text
    return None


# --- GetPersonsForProfile ---
r = gpfp(["191212121212"], "P3")
p = r.requestedPersonRecord[0].personRecord
t.check(values(p) == [("sms", "+46701234567", True), ("email", "tolvan@example.se", True)], f"P3 Tolvan contacts {values(p)}")
t.check(p.optoutPaperNotification is True and p.version and p.name.givenName == "Tolvan", "P3 Tolvan flags/version/name")
t.check(p.addressInformation.residentialAddress.city == "Stockholm" and p.birth.dateOfBirth.value == "1912-12-12", "P3 address/birth")
t.check(p.updatePersonContactInformationActor.id.extension == "191212121212", "P3 actor")
p = gpfp(["199002026780"], "P3").requestedPersonRecord[0].personRecord
t.check(values(p) == [] and p.version is None, "P3 person without contact information")
p = gpfp(["201806051239"], "P1").requestedPersonRecord[0].personRecord
t.check(sorted(x.relationshipId.personalIdentity.extension for x in p.relationship) == ["198309214578", "198503142385"], "P1 child guardians")
t.check(all(x.relationshipType == "V" for x in p.relationship) and p.addressInformation is None and p.birth is None, "P1: guardians V, no address")
p = gpfp(["201806051239"], "P2").requestedPersonRecord[0].personRecord
t.check(p.birth.dateOfBirth.value == "2018-06-05" and p.addressInformation is not None and values(p) == [], "P2 child: birth+address, no contacts")
p = gpfp(["197001013452"], "P3").requestedPersonRecord[0].personRecord
t.check(p.protectedPersonIndicator is True and values(p) == [] and p.addressInformation is None and p.relationship == [], "PR-3 protected person gets P1 on restricted")
r = gpfp(["200112121215"], "P3").requestedPersonRecord[0]
t.check(r.personRecord is None and r.requestedPersonalIdentity.extension == "200112121215", "unknown person: echo, no record")
r = gpfp(["198503142385", "200112121215", "191212121212"], "P1")
t.check([x.requestedPersonalIdentity.extension for x in r.requestedPersonRecord] == ["198503142385", "200112121215", "191212121212"], "several ids in order")
t.check([x.personRecord is not None for x in r.requestedPersonRecord] == [True, False, True], "several ids: known/unknown")
f = fault_of(service("GetPersonsForProfile"), personId=[pid("191212121212")] * 501, profile="P1", ignoreReferredIdentity=False)
t.check(f is not None and "at most 500" in f.message and "logId" in f.message, f"501 ids fault: {f and f.message}")
f = fault_of(service("GetPersonsForProfile"), personId=[pid("191212121212")], profile="P4", ignoreReferredIdentity=False)
t.check(f is not None and "P1, P2 and P3" in f.message, "P4 fault")
f = fault_of(service("GetPersonsForProfile"), personId=[pid("191212121213")], profile="P1", ignoreReferredIdentity=False)
t.check(f is not None and "[ID-2]" in f.message and f.code.endswith("Client"), "invalid id fault")

# --- Unrestricted reads (PR-5) ---
p = gpfp(["197001013452"], "P3", "GetPersonsForProfileUnrestricted", "extended").requestedPersonRecord[0].personRecord
t.check(values(p) == [("sms", "+46761234569", True)] and p.protectedPersonIndicator is True, "PR-5 Unrestricted P3 shows withheld contacts")
f = fault_of(service("GetPersonsForProfileUnrestricted", "consumer"), personId=[pid("197001013452")], profile="P3", ignoreReferredIdentity=False)
t.check(f is not None and "Obehörigt anrop för system SE2321000016-1001" in f.message, "PR-5 Unrestricted refused for plain consumer")

# --- GetPersonContactInformation ---
gpci = service("GetPersonContactInformation")
rec = call(gpci, personId=pid("191212121212")).contactInformationRecord
t.check(rec is not None and values(rec) == [("sms", "+46701234567", True), ("email", "tolvan@example.se", True)], "GPCI Tolvan")
t.check(call(gpci, personId=pid("199002026780")).contactInformationRecord is None, "GPCI nothing stored: no record")
rec = call(gpci, personId=pid("197001013452")).contactInformationRecord
t.check(rec is not None and rec.protectedPersonIndicator is True and values(rec) == [], "GPCI protected: flags, no contacts")
rec = call(service("GetPersonContactInformationUnrestricted", "extended"), personId=pid("197001013452")).contactInformationRecord
t.check(values(rec) == [("sms", "+46761234569", True)], "GPCI Unrestricted shows withheld contacts")

# --- UpdatePersonContactInformation ---
upd = service("UpdatePersonContactInformation")
HANNA = "199002026780"


def actor(n=HANNA):
    return {"id": pid(n)}


def entry(kind, value, dn=True, **extra):
    return {"contactType": kind, "value": value, "digitalNotification": dn, **extra}


def update(op=upd, person=HANNA, contacts=(), version=None, **extra):
    kw = {"actor": extra.pop("actor", actor(person)), "personId": pid(person), "contactInformation": list(contacts)}
    if version:
        kw["versionToUpdate"] = version
    kw.update(extra)
    return unwrap(call(op, **kw))


def unwrap(response):
    """The result element: the Unrestricted response capitalises its name, as published."""
    for name in ("updatePersonContactInformationResult", "UpdatePersonContactInformationUnrestrictedResult"):
        if name in response:
            return response[name]
    raise AssertionError(f"no result element in {response}")


def state(person):
    rec = call(gpci, personId=pid(person)).contactInformationRecord
    return None if rec is None else (rec.version, values(rec), rec.optoutPaperNotification)


refusals = [
    ("INVALID_PERSON_ID", dict(person="199002026781")),
    ("PERSON_NOT_FOUND", dict(person="200112121215")),
    ("CONTACT_TYPE_NOT_ALLOWED", dict(contacts=[entry("phone", "+46701112233")])),
    ("CONTACT_QUALIFIER_NOT_ALLOWED", dict(contacts=[entry("sms", "+46701112233", use="home")])),
    ("TOO_MANY_CONTACTS", dict(contacts=[entry("sms", "+46701112233"), entry("sms", "+46701112234")])),
    ("INVALID_PHONE_NUMBER", dict(contacts=[entry("sms", "0701112233")])),
    ("INVALID_EMAIL_ADDRESS", dict(contacts=[entry("email", "Hanna <hanna@example.se>")])),
    ("CONTACT_PERSON_NOT_ALLOWED", dict(contacts=[entry("sms", "+46701112233")], contactPerson=[{"contactRelationshipType": "NARA", "givenName": "Nils"}])),
    ("DIGITAL_NOTIFICATION_REQUIRED", dict(contacts=[entry("sms", "+46701112233", False)], optoutPaperNotification=True)),
    ("ACTOR_INVALID", dict(contacts=[entry("sms", "+46701112233")], actor=actor("191212121212"))),
    ("PROTECTED_PERSON", dict(person="197505055678", contacts=[entry("sms", "+46701112233")])),
]
for code, kw in refusals:
    person = kw.get("person", HANNA)
    before = state(person) if code not in ("INVALID_PERSON_ID", "PERSON_NOT_FOUND") else None
    res = update(**kw)
    t.check(res.result.resultCode == "ERROR" and error_code(res.result) == code, f"{code}: got {res.result.resultCode} {error_code(res.result)} {res.result.resultText}")
    t.check(res.contactInformationRecord is None, f"{code}: no record on ERROR")
    if before is not None or code == "ACTOR_INVALID":
        t.check(state(person) == before, f"{code}: storage unchanged")

res = update(contacts=[entry("sms", "+46701112233"), entry("email", "hanna@domän.se", False)], optoutPaperNotification=True)
t.check(res.result.resultCode == "OK" and values(res.contactInformationRecord) == [("sms", "+46701112233", True), ("email", "hanna@domän.se", False)], "valid replace")
v1 = res.contactInformationRecord.version
t.check(res.contactInformationRecord.updatePersonContactInformationActor.id.extension == HANNA, "actor recorded")
res = update(contacts=[entry("sms", "+46701112299")])
t.check(error_code(res.result) == "VERSION_CONFLICT", "VERSION_CONFLICT without version")
t.check(state(HANNA)[1] == [("sms", "+46701112233", True), ("email", "hanna@domän.se", False)], "conflict: storage unchanged")
res = update(contacts=[entry("email", "hanna.holm@example.se")], version=v1)
t.check(res.result.resultCode == "OK" and res.contactInformationRecord.version > v1, "replace with version")
res = update(contacts=[], version=res.contactInformationRecord.version)
t.check(res.result.resultCode == "OK" and values(res.contactInformationRecord) == [], "removal")
after = state(HANNA)
t.check(after is not None and after[1] == [], "read after removal: empty record with version")

updu = service("UpdatePersonContactInformationUnrestricted", "extended")
res = update(op=updu, person="198309214578", contacts=[entry("sms", "+46731234560")], version=state("198309214578")[0])
t.check(res.result.resultCode == "OK", f"Unrestricted update OK: {res.result.resultText}")
res = update(op=updu, person="197505055678", contacts=[entry("sms", "+46701112233")])
t.check(error_code(res.result) == "PROTECTED_PERSON", "Unrestricted update still refuses protected persons")
f = fault_of(service("UpdatePersonContactInformationUnrestricted", "consumer"), actor=actor(), personId=pid(HANNA), contactInformation=[])
t.check(f is not None and "Obehörigt anrop" in f.message, "Unrestricted update refused for plain consumer")

# --- PingForConfiguration ---
ping = call(service("PingForConfiguration"), serviceContractNamespace="urn:riv:strategicresourcemanagement:persons:person:GetPersonsForProfileResponder:5", logicalAddress=LA)
conf = {c.name: c.value for c in ping.configuration}
t.check(ping.version and len(ping.pingDateTime) == 14 and conf.get("storeAvailable") == "true" and conf.get("store") in ("sqlite", "postgresql"), f"ping {conf}")

# --- clients generated from the published WSDLs, pointed at us ---
if SHARED and os.path.isdir(SHARED):
    base = os.path.join(SHARED, "reference-schemas/schemas/interactions")
    P = "urn:riv:strategicresourcemanagement:persons:person"
    pub = zeep.Client(os.path.join(base, "GetPersonsForProfileInteraction/GetPersonsForProfileInteraction_5.0_RIVTABP21.wsdl"), transport=transport("consumer"), plugins=[CapturePlugin()])
    svc = pub.create_service(f"{{{P}:GetPersonsForProfile:5:rivtabp21}}GetPersonsForProfileResponderBinding", BASE + PATHS["GetPersonsForProfile"])
    r = call(svc.GetPersonsForProfile, personId=[pid("191212121212"), pid("201806051239")], profile="P3", ignoreReferredIdentity=False)
    p = r.requestedPersonRecord[0].personRecord
    t.check(values(p) == [("sms", "+46701234567", True), ("email", "tolvan@example.se", True)], "published WSDL: P3 values")
    t.check(len(r.requestedPersonRecord[1].personRecord.relationship) == 2, "published WSDL: guardians")
    pub = zeep.Client(os.path.join(base, "UpdatePersonContactInformationUnrestrictedInteraction/UpdatePersonContactInformationUnrestrictedInteraction_4.0_RIVTABP21.wsdl"), transport=transport("extended"), plugins=[CapturePlugin()])
    svc = pub.create_service(f"{{{P}:UpdatePersonContactInformationUnrestricted:4:rivtabp21}}UpdatePersonContactInformationUnrestrictedResponderBinding", BASE + PATHS["UpdatePersonContactInformationUnrestricted"])
    res = unwrap(call(svc.UpdatePersonContactInformationUnrestricted, actor=actor("201202102461"), personId=pid("201202102461"), contactInformation=[entry("sms", "+46701234500")]))
    t.check(res.result.resultCode == "OK" and values(res.contactInformationRecord) == [("sms", "+46701234500", True)], f"published WSDL: Unrestricted update {res.result.resultText}")
    res = unwrap(call(svc.UpdatePersonContactInformationUnrestricted, actor=actor("201202102461"), personId=pid("201202102461"), contactInformation=[entry("sms", "+46 70 123 45 00")]))
    t.check(error_code(res.result) == "INVALID_PHONE_NUMBER" and "[CT-4]" in res.result.resultText, "published WSDL: error code readable")
else:
    print("zeep: skipped the published WSDLs: ../shared not present")

t.finish(capture.count)
