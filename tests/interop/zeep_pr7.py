"""PR-7 through zeep clients generated from the live ?wsdl, over mutual TLS: what applied
while a person was protected stays hidden on every restricted contract after the lift,
and the Unrestricted twin still shows it. Reads the demo person Greta Gömd, whose demo
load moves her three times, protects her (sekretessmarkering) at Skyddade stigen 7 and
lifts it at Tredje torget 3. Mellangatan 5 ended at the import that set the protection,
so it counts as protected too (the register does not order the two).
Usage: zeep_pr7.py BASE_URL CERT_DIR OUT_DIR STORE (sqlite or postgresql)"""
import sys

import zeep
from lxml import etree

from common import RESULT_NS, Capture, Tally
from zeep_client import Clients, pid

BASE, CERTS, OUT, STORE = sys.argv[1:5]
name = f"zeep PR-7 on {STORE}"
t = Tally(name)
clients = Clients(BASE, CERTS, Capture(OUT, f"zeep-pr7-{STORE}"), t)
GRETA = "196802022381"
# Every text that would place her during the protected period.
HIDDEN = ["Mellangatan 5", "11122", "Skyddade stigen 7", "90326", "Umeå"]
CURRENT = "Tredje torget 3"


def street(address):
    return address.postalAddress2 if address is not None else None


def earlier_streets(history):
    """The streets in the history's xs:any earlier-address slot, oldest last."""
    slot = [el for el in (history._value_1 or []) if getattr(el, "tag", None) == f"{{{RESULT_NS}}}earlierAddress"]
    return [el.findtext("{urn:riv:strategicresourcemanagement:persons:person:5}postalAddress2") for el in slot]


def leaked():
    """The hidden texts the last raw answer contains (the whole envelope, not just the
    elements zeep decodes)."""
    text = clients.last_received.decode("utf-8")
    return [h for h in HIDDEN if h in text]


def record(profile, contract="GetPersonsForProfile", cert="consumer"):
    return clients.gpfp([GRETA], profile, contract, cert).requestedPersonRecord[0].personRecord


ping = clients.call(clients.service("PingForConfiguration"), serviceContractNamespace="urn:riv:strategicresourcemanagement:persons:person:GetPersonsForProfileResponder:5", logicalAddress="SE2321000016-LA01")
conf = {c.name: c.value for c in ping.configuration}
t.check(conf.get("store") == STORE, f"the producer runs on {STORE}: ping says {conf.get('store')}")

# The restricted contract: P5's historicalAddress and the earlier-address slot show only
# the two addresses that ended before the protection.
p = record("P5")
history = p.populationRegistrationRecord.historicalRecords if p.populationRegistrationRecord else None
t.check(p.protectedPersonIndicator is False, "lifted: not protected any more")
t.check(history is not None and street(history.historicalAddress) == "Andra gatan 2", f"P5 restricted: historicalAddress is the last address before the protection: {history and street(history.historicalAddress)}")
t.check(history is not None and earlier_streets(history) == ["Första gatan 1"], f"P5 restricted: earlier-address slot holds only Första gatan 1: {history and earlier_streets(history)}")
t.check(leaked() == [], f"P5 restricted: nothing of the protected period in the answer: {leaked()}")
for profile in ("P1", "P2", "P3", "P4"):
    p = record(profile)
    address = p.addressInformation.residentialAddress if p.addressInformation else None
    if profile == "P1":
        t.check(address is None, "P1: no address")
    else:
        t.check(street(address) == CURRENT, f"{profile} restricted: only the address the register gives after the lift: {street(address)}")
    t.check(p.populationRegistrationRecord is None, f"{profile}: no history outside P5")
    t.check(leaked() == [], f"{profile} restricted: nothing of the protected period: {leaked()}")
clients.call(clients.service("GetPersonContactInformation"), personId=pid(GRETA))
t.check(leaked() == [], f"GetPersonContactInformation: nothing of the protected period: {leaked()}")

# The Unrestricted twin shows the whole history, newest first (audited as unrestricted, PR-5).
p = record("P5", "GetPersonsForProfileUnrestricted", "extended")
history = p.populationRegistrationRecord.historicalRecords
t.check(street(history.historicalAddress) == "Skyddade stigen 7", f"P5 Unrestricted: the protected address is the latest history: {street(history.historicalAddress)}")
t.check(earlier_streets(history) == ["Mellangatan 5", "Andra gatan 2", "Första gatan 1"], f"P5 Unrestricted: every earlier address: {earlier_streets(history)}")
p = record("P2", "GetPersonsForProfileUnrestricted", "extended")
t.check(street(p.addressInformation.residentialAddress) == CURRENT, "P2 Unrestricted: the current address")
f = clients.fault_of(clients.service("GetPersonsForProfileUnrestricted", "consumer"), personId=[pid(GRETA)], profile="P5", ignoreReferredIdentity=False)
t.check(f is not None and "Obehörigt anrop" in f.message and all(h not in (f.message or "") for h in HIDDEN), "P5 Unrestricted refused for a plain consumer, and the refusal reveals nothing")

t.finish(clients.capture.count)
