"""Calls every contract through zeep clients generated from the live ?wsdl (over mutual
TLS with the dev certificates) and from the published WSDLs in ../shared, asserting on
the decoded values. Usage: zeep_suite.py BASE_URL CERT_DIR OUT_DIR [SHARED_DIR]"""
import os
import re
import sys

import zeep
from lxml import etree
from zeep.helpers import serialize_object

from common import LA, RESULT_NS, Capture, Tally
from zeep_client import PATHS, Clients, pid

BASE, CERTS, OUT = sys.argv[1], sys.argv[2], sys.argv[3]
SHARED = sys.argv[4] if len(sys.argv) > 4 else None
t = Tally("zeep")
capture = Capture(OUT, "zeep")


clients = Clients(BASE, CERTS, capture, t)
transport, service, call, fault_of, gpfp = clients.transport, clients.service, clients.call, clients.fault_of, clients.gpfp


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
t.check(p.relationship == [] and p.addressInformation is None and p.birth.dateOfBirth.value == "2018-06-05", "P1: birth, no guardians, no address")
p = gpfp(["201806051239"], "P2").requestedPersonRecord[0].personRecord
t.check(p.birth.dateOfBirth.value == "2018-06-05" and p.addressInformation is not None and values(p) == [], "P2 child: birth+address, no contacts")
p = gpfp(["201806051239"], "P4").requestedPersonRecord[0].personRecord
t.check(sorted(x.relationshipId.personalIdentity.extension for x in p.relationship) == ["198309214578", "198503142385"], "P4 child guardians")
t.check(all(x.relationshipType == "V" and x.relationshipToDate.value == "2036-06-05" and x.name.givenName for x in p.relationship), "P4 guardians: V, until 18, named")
p = gpfp(["198309214578"], "P4").requestedPersonRecord[0].personRecord
t.check(p.gender == "M" and sorted(c.citizenshipCountryCode for c in p.citizenship) == ["DK", "SE"] and p.maritalStatus.maritalStatusCode == "G", "P4 gender, citizenship, marital status")
p = gpfp(["198309214578"], "P5").requestedPersonRecord[0].personRecord
t.check(p.gender == "M" and p.relationship == [], "P5 adult (history appears after an address change)")
p = gpfp(["194003031129"], "P1").requestedPersonRecord[0].personRecord
t.check(p.deregistration.deregistrationReasonCode == "AV", "P1 deceased: deregistration AV (PR-6)")
r = gpfp(["199601011100", {"root": "1.2.752.74.9.1", "extension": "R2026000002"}], "P1").requestedPersonRecord
t.check([x.requestedPersonalIdentity.extension for x in r] == ["199601011100", "R2026000002"] and [x.personRecord.personalIdentity.extension for x in r] == ["199601011118", "197010632391"], "referred and linked ids answered with the current identity")
r = gpfp(["199601011100"], "P1", ignore=True).requestedPersonRecord[0]
t.check(r.personRecord is None and error_code(r) == "PERSON_NOT_FOUND", "ignoreReferredIdentity=true: only the asked id's own record")
p = gpfp(["197001013452"], "P3").requestedPersonRecord[0].personRecord
t.check(p.protectedPersonIndicator is True and values(p) == [] and p.addressInformation is None and p.relationship == [], "PR-3 protected person gets P1 on restricted")
r = gpfp(["200112121215"], "P3").requestedPersonRecord[0]
t.check(r.personRecord is None and r.requestedPersonalIdentity.extension == "200112121215", "unknown person: echo, no record")
r = gpfp(["198503142385", "200112121215", "191212121212"], "P1")
t.check([x.requestedPersonalIdentity.extension for x in r.requestedPersonRecord] == ["198503142385", "200112121215", "191212121212"], "several ids in order")
t.check([x.personRecord is not None for x in r.requestedPersonRecord] == [True, False, True], "several ids: known/unknown")
f = fault_of(service("GetPersonsForProfile"), personId=[pid("191212121212")] * 501, profile="P1", ignoreReferredIdentity=False)
t.check(f is not None and "at most 500" in f.message and "logId" in f.message, f"501 ids fault: {f and f.message}")
f = fault_of(service("GetPersonsForProfile"), personId=[pid("191212121212")], profile="P6", ignoreReferredIdentity=False)
t.check(f is not None and "P1, P2, P3, P4 or P5" in f.message, "P6 fault names P1-P5")
r = gpfp(["191212121213", "191212121212"], "P1").requestedPersonRecord
t.check(r[0].personRecord is None and error_code(r[0]) == "INVALID_PERSON_ID" and r[1].personRecord is not None, "a bad id is answered in its own record, the batch is not Faulted")

# --- Unrestricted reads (PR-5) ---
p = gpfp(["197001013452"], "P3", "GetPersonsForProfileUnrestricted", "extended").requestedPersonRecord[0].personRecord
# Erik's contact information was erased when he became protected (PR-4): P3, with birth, and no contacts.
t.check(values(p) == [] and p.protectedPersonIndicator is True and p.birth is not None, "PR-5 Unrestricted P3 for a protected person (contacts erased, PR-4)")
f = fault_of(service("GetPersonsForProfileUnrestricted", "consumer"), personId=[pid("197001013452")], profile="P3", ignoreReferredIdentity=False)
t.check(f is not None and "Obehörigt anrop för system SE2321000016-1001" in f.message, "PR-5 Unrestricted refused for plain consumer")

# --- GetPersonContactInformation ---
gpci = service("GetPersonContactInformation")
rec = call(gpci, personId=pid("191212121212")).contactInformationRecord
t.check(rec is not None and values(rec) == [("sms", "+46701234567", True), ("email", "tolvan@example.se", True)], "GPCI Tolvan")
t.check(call(gpci, personId=pid("199002026780")).contactInformationRecord is None, "GPCI nothing stored: no record")
rec = call(gpci, personId=pid("197001013452")).contactInformationRecord
t.check(rec is None, "GPCI protected: nothing kept (erased when protected, PR-4)")
rec = call(service("GetPersonContactInformationUnrestricted", "extended"), personId=pid("197001013452")).contactInformationRecord
t.check(rec is None, "GPCI Unrestricted: nothing comes back after erasure (PR-4)")
rec = call(gpci, personId=pid("194003031129")).contactInformationRecord
t.check(rec is None, "GPCI deceased: no contact information (PR-6)")

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


# Every person in the demo register with a personal identity number: a refusal must leave
# all of them as they were, not only the person named in the request.
PEOPLE = ["191212121212", "198503142385", "198309214578", "201806051239", "201202102461",
          "197001013452", "197505055678", "197010632391", HANNA]
gpci_all = service("GetPersonContactInformationUnrestricted", "extended")


def plain(v):
    """A zeep value as plain data that compares by value (xs:any elements as canonical XML)."""
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, etree._Element):
        return etree.tostring(v, method="c14n")
    return v


def state(person):
    """What the server holds for PERSON, read through the Unrestricted contract so that
    protected persons' contacts are included: the whole record, or None when nothing is
    stored. A refused read yields its fault code and text (without the per-call logId)."""
    try:
        rec = call(gpci_all, personId=pid(person)).contactInformationRecord
    except zeep.exceptions.Fault as f:
        return ("fault", f.code, re.sub(r"logId\W*[-\w]+", "logId", f.message or ""))
    return None if rec is None else plain(serialize_object(rec, dict))


def state_record(person):
    """The record the Unrestricted read returns for PERSON (None when nothing is stored)."""
    return call(gpci_all, personId=pid(person)).contactInformationRecord


def snapshot(person):
    return {p: state(p) for p in dict.fromkeys(PEOPLE + [person])}


def unchanged(what, person, before):
    """Checks that nothing stored changed since BEFORE (a snapshot), absence included."""
    after = snapshot(person)
    changed = {p: (before[p], after[p]) for p in before if before[p] != after[p]}
    t.check(not changed, f"{what}: storage changed (before, after): {changed}")


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
# Most refusals are aimed at Hanna while she has nothing stored, so a server that wrongly
# stored one would turn that absence into a record: make sure the absence is real.
t.check(state(HANNA) is None, f"Hanna has nothing stored before the refusals: {state(HANNA)}")
for code, kw in refusals:
    person = kw.get("person", HANNA)
    before = snapshot(person)
    res = update(**kw)
    t.check(res.result.resultCode == "ERROR" and error_code(res.result) == code, f"{code}: got {res.result.resultCode} {error_code(res.result)} {res.result.resultText}")
    t.check(res.contactInformationRecord is None, f"{code}: no record on ERROR")
    unchanged(code, person, before)

res = update(contacts=[entry("sms", "+46701112233"), entry("email", "hanna@domän.se", False)], optoutPaperNotification=True)
t.check(res.result.resultCode == "OK" and values(res.contactInformationRecord) == [("sms", "+46701112233", True), ("email", "hanna@domän.se", False)], "valid replace")
v1 = res.contactInformationRecord.version
t.check(res.contactInformationRecord.updatePersonContactInformationActor.id.extension == HANNA, "actor recorded")
before = snapshot(HANNA)
t.check(values(state_record(HANNA)) == [("sms", "+46701112233", True), ("email", "hanna@domän.se", False)], "valid replace: read back")
res = update(contacts=[entry("sms", "+46701112299")])
t.check(error_code(res.result) == "VERSION_CONFLICT", "VERSION_CONFLICT without version")
unchanged("VERSION_CONFLICT", HANNA, before)
res = update(contacts=[entry("email", "hanna.holm@example.se")], version=v1)
t.check(res.result.resultCode == "OK" and res.contactInformationRecord.version > v1, "replace with version")
res = update(contacts=[], version=res.contactInformationRecord.version)
t.check(res.result.resultCode == "OK" and values(res.contactInformationRecord) == [], "removal")
after = state_record(HANNA)
t.check(after is not None and values(after) == [] and after.version, "read after removal: empty record with version")

updu = service("UpdatePersonContactInformationUnrestricted", "extended")
bertil = state_record("198309214578")
res = update(op=updu, person="198309214578", contacts=[entry("sms", "+46731234560")], version=bertil.version if bertil else None)
t.check(res.result.resultCode == "OK", f"Unrestricted update OK: {res.result.resultText}")
before = snapshot("197505055678")
res = update(op=updu, person="197505055678", contacts=[entry("sms", "+46701112233")])
t.check(error_code(res.result) == "PROTECTED_PERSON", "Unrestricted update still refuses protected persons")
unchanged("Unrestricted PROTECTED_PERSON", "197505055678", before)
# With Hanna's current version, so that the update would have gone through had it not
# been refused.
before = snapshot(HANNA)
f = fault_of(service("UpdatePersonContactInformationUnrestricted", "consumer"), actor=actor(), personId=pid(HANNA), versionToUpdate=after.version, contactInformation=[])
t.check(f is not None and "Obehörigt anrop" in f.message, "Unrestricted update refused for plain consumer")
unchanged("Unrestricted update by a plain consumer", HANNA, before)

# --- The privacy lifecycle through a generated client ---
# PR-2: a protected person withdraws consent (an empty list); entering is refused.
res = update(person="197001013452", contacts=[entry("sms", "+46761234569")])
t.check(res.result.resultCode == "ERROR" and error_code(res.result) == "PROTECTED_PERSON", "PR-2 protected: entering refused")
res = update(person="197001013452", contacts=[])
t.check(res.result.resultCode == "OK" and values(res.contactInformationRecord) == [], "PR-2 protected: withdrawal accepted, nothing revealed")
# PR-6: the deceased cannot be updated.
res = update(person="194003031129", contacts=[entry("sms", "+46701234567")])
t.check(error_code(res.result) == "PERSON_DEREGISTERED", "PR-6 deceased: update refused")
# GU-1: the child's route arrives in the response's xs:any slot, which generated clients keep as raw XML.
resp = call(gpci, personId=pid("201806051239"))
route = next((el for el in (resp._value_1 or []) if getattr(el, "tag", None) == f"{{{RESULT_NS}}}notificationRoute"), None)
t.check(route is not None and route.findtext(f"{{{RESULT_NS}}}route") == "guardians" and len(route.findall(f"{{{RESULT_NS}}}guardian")) == 2, "GU-1 route with both guardians via zeep")

# --- PingForConfiguration ---
ping = call(service("PingForConfiguration"), serviceContractNamespace="urn:riv:strategicresourcemanagement:persons:person:GetPersonsForProfileResponder:5", logicalAddress=LA)
conf = {c.name: c.value for c in ping.configuration}
t.check(ping.version and len(ping.pingDateTime) == 14 and conf.get("storeAvailable") == "true" and conf.get("store") in ("sqlite", "postgresql"), f"ping {conf}")

# --- clients generated from the published WSDLs, pointed at us ---
if SHARED and os.path.isdir(SHARED):
    base = os.path.join(SHARED, "reference-schemas/schemas/interactions")
    P = "urn:riv:strategicresourcemanagement:persons:person"
    pub = zeep.Client(os.path.join(base, "GetPersonsForProfileInteraction/GetPersonsForProfileInteraction_5.0_RIVTABP21.wsdl"), transport=transport("consumer"), plugins=[clients.plugin()])
    svc = pub.create_service(f"{{{P}:GetPersonsForProfile:5:rivtabp21}}GetPersonsForProfileResponderBinding", BASE + PATHS["GetPersonsForProfile"])
    r = call(svc.GetPersonsForProfile, personId=[pid("191212121212"), pid("201806051239")], profile="P4", ignoreReferredIdentity=False)
    p = r.requestedPersonRecord[0].personRecord
    t.check(values(p) == [("sms", "+46701234567", True), ("email", "tolvan@example.se", True)], "published WSDL: P4 includes P3 values")
    t.check(len(r.requestedPersonRecord[1].personRecord.relationship) == 2, "published WSDL: P4 guardians")
    for profile in ("P1", "P2", "P3", "P5"):
        r = call(svc.GetPersonsForProfile, personId=[pid("198309214578")], profile=profile, ignoreReferredIdentity=False)
        t.check(r.requestedPersonRecord[0].personRecord.name.givenName == "Bertil", f"published WSDL: {profile}")
    r = call(svc.GetPersonsForProfile, personId=[pid("191212121213"), pid("199601011100")], profile="P1", ignoreReferredIdentity=False)
    t.check(r.requestedPersonRecord[0].personRecord is None and error_code(r.requestedPersonRecord[0]) == "INVALID_PERSON_ID", "published WSDL: a bad id answered in its own record")
    t.check(r.requestedPersonRecord[1].personRecord.personalIdentity.extension == "199601011118", "published WSDL: a referred id answered with the current identity")
    pub = zeep.Client(os.path.join(base, "UpdatePersonContactInformationUnrestrictedInteraction/UpdatePersonContactInformationUnrestrictedInteraction_4.0_RIVTABP21.wsdl"), transport=transport("extended"), plugins=[clients.plugin()])
    svc = pub.create_service(f"{{{P}:UpdatePersonContactInformationUnrestricted:4:rivtabp21}}UpdatePersonContactInformationUnrestrictedResponderBinding", BASE + PATHS["UpdatePersonContactInformationUnrestricted"])
    res = unwrap(call(svc.UpdatePersonContactInformationUnrestricted, actor=actor("201202102461"), personId=pid("201202102461"), contactInformation=[entry("sms", "+46701234500")]))
    t.check(res.result.resultCode == "OK" and values(res.contactInformationRecord) == [("sms", "+46701234500", True)], f"published WSDL: Unrestricted update {res.result.resultText}")
    before = snapshot("201202102461")
    version = res.contactInformationRecord.version if res.contactInformationRecord else None
    res = unwrap(call(svc.UpdatePersonContactInformationUnrestricted, actor=actor("201202102461"), personId=pid("201202102461"), versionToUpdate=version, contactInformation=[entry("sms", "+46 70 123 45 00")]))
    t.check(error_code(res.result) == "INVALID_PHONE_NUMBER" and "[CT-4]" in res.result.resultText, "published WSDL: error code readable")
    unchanged("published WSDL: INVALID_PHONE_NUMBER", "201202102461", before)
else:
    print("zeep: skipped the published WSDLs: ../shared not present")

t.finish(capture.count)
