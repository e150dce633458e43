"""zeep clients generated from the live ?wsdl of each contract, over mutual TLS with the
dev certificates; shared by the zeep suites. Every received message is captured for the
schema check, and every call counted."""
import requests
import zeep
from lxml import etree
from zeep.plugins import Plugin
from zeep.transports import Transport

from common import LA, PNR

SAMORDNINGSNUMMER = "1.2.752.129.2.1.3.3"
PATHS = {
    "GetPersonsForProfile": "/GetPersonsForProfile/5/rivtabp21",
    "GetPersonsForProfileUnrestricted": "/GetPersonsForProfileUnrestricted/5/rivtabp21",
    "GetPersonContactInformation": "/GetPersonContactInformation/4/rivtabp21",
    "GetPersonContactInformationUnrestricted": "/GetPersonContactInformationUnrestricted/4/rivtabp21",
    "UpdatePersonContactInformation": "/UpdatePersonContactInformation/4/rivtabp21",
    "UpdatePersonContactInformationUnrestricted": "/UpdatePersonContactInformationUnrestricted/4/rivtabp21",
    "PingForConfiguration": "/PingForConfiguration/1/rivtabp21",
}


def pid(n):
    # A samordningsnummer (day of month + 60) has its own root (ID-1).
    return {"root": SAMORDNINGSNUMMER if n[6:8].isdigit() and int(n[6:8]) > 60 else PNR, "extension": n}


class _CapturePlugin(Plugin):
    def __init__(self, clients):
        self.clients = clients

    def ingress(self, envelope, http_headers, operation):
        received = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
        self.clients.last_received = received
        self.clients.capture.save(received)
        return envelope, http_headers


class Clients:
    """One generated client per (contract, certificate), made on first use."""

    def __init__(self, base, certs, capture, tally):
        self.base, self.certs, self.capture, self.tally = base, certs, capture, tally
        self._clients = {}
        # The raw envelope of the last answer, for checks on what it must not contain.
        self.last_received = b""

    def plugin(self):
        return _CapturePlugin(self)

    def transport(self, cert):
        s = requests.Session()
        s.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise replace our CA
        s.cert = (f"{self.certs}/{cert}.pem", f"{self.certs}/{cert}.key")
        s.verify = f"{self.certs}/ca.pem"
        return Transport(session=s)

    def service(self, contract, cert="consumer"):
        key = (contract, cert)
        if key not in self._clients:
            self._clients[key] = zeep.Client(self.base + PATHS[contract] + "?wsdl", transport=self.transport(cert), plugins=[self.plugin()])
        return getattr(self._clients[key].service, contract)

    def call(self, op, **kw):
        self.tally.calls += 1
        return op(_soapheaders={"LogicalAddress": LA}, **kw)

    def fault_of(self, op, **kw):
        try:
            self.call(op, **kw)
        except zeep.exceptions.Fault as f:
            return f
        return None

    def gpfp(self, ids, profile, contract="GetPersonsForProfile", cert="consumer", ignore=False):
        return self.call(self.service(contract, cert), personId=[i if isinstance(i, dict) else pid(i) for i in ids], profile=profile, ignoreReferredIdentity=ignore)
