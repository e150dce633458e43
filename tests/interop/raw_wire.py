"""Raw-wire cases that generated clients cannot send, over mutual TLS with http.client:
other prefixes, no LogicalAddress, wrong SOAPAction, SOAP 1.2, a BOM, comments and
whitespace, CDATA, DTD/entities, UTF-16. Each rejected request must get a specific Fault
or status, a log line with its correlation id, and leave storage unchanged.
Usage: raw_wire.py HOST PORT CERT_DIR OUT_DIR SERVER_LOG"""
import http.client
import os
import ssl
import sys
import time
import uuid

from common import LA, Capture, Tally

HOST, PORT, CERTS, OUT, LOG = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
t = Tally("raw wire")
capture = Capture(OUT, "raw")
ctx = ssl.create_default_context(cafile=f"{CERTS}/ca.pem")
ctx.load_cert_chain(f"{CERTS}/consumer.pem", f"{CERTS}/consumer.key")
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
P = "urn:riv:strategicresourcemanagement:persons:person"
GPFP = ("/GetPersonsForProfile/5/rivtabp21", f"{P}:GetPersonsForProfileResponder:5")
GPCI = ("/GetPersonContactInformation/4/rivtabp21", f"{P}:GetPersonContactInformationResponder:4")
UPD = ("/UpdatePersonContactInformation/4/rivtabp21", f"{P}:UpdatePersonContactInformationResponder:4")
HANNA = "199002026780"


def post(path, body, content_type="text/xml; charset=utf-8", headers=None, save=True):
    t.calls += 1
    corr = f"raw-{uuid.uuid4()}"
    conn = http.client.HTTPSConnection(HOST, PORT, context=ctx, timeout=10)
    h = {"Content-Type": content_type, "x-skltp-correlation-id": corr, **(headers or {})}
    conn.request("POST", path, body=body if isinstance(body, bytes) else body.encode("utf-8"), headers=h)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    if save and data.lstrip().startswith(b"<"):
        capture.save(data)
    t.check(resp.getheader("x-skltp-correlation-id") == corr, f"correlation id echoed on {path}")
    return resp.status, data.decode("utf-8", "replace"), corr


def envelope(body, header=f'<itr:LogicalAddress xmlns:itr="urn:riv:itintegration:registry:1">{LA}</itr:LogicalAddress>'):
    return f'<soapenv:Envelope xmlns:soapenv="{SOAP11}"><soapenv:Header>{header}</soapenv:Header><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>'


def gpfp_body(prefix_style="default"):
    if prefix_style == "default":
        return f'<GetPersonsForProfile xmlns="{GPFP[1]}"><personId><c:root xmlns:c="{P}:5">1.2.752.129.2.1.3.1</c:root><c:extension xmlns:c="{P}:5">191212121212</c:extension></personId><profile>P3</profile><ignoreReferredIdentity>false</ignoreReferredIdentity></GetPersonsForProfile>'
    return f'<ns9:GetPersonsForProfile><ns9:personId><urn:root>1.2.752.129.2.1.3.1</urn:root><urn:extension>191212121212</urn:extension></ns9:personId><ns9:profile>P3</ns9:profile><ns9:ignoreReferredIdentity>0</ns9:ignoreReferredIdentity></ns9:GetPersonsForProfile>'


def hanna_state():
    body = envelope(f'<GetPersonContactInformation xmlns="{GPCI[1]}" xmlns:c="{P}:5"><personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>{HANNA}</c:extension></personId></GetPersonContactInformation>')
    status, text, _ = post(GPCI[0], body, save=False)
    return status, text[text.find("<GetPersonContactInformationResponse"):]


def current_version():
    _, text = hanna_state()
    start = text.find("<p:version>")
    return text[start + len("<p:version>"):text.find("</p:version>")] if start >= 0 else None


def update_body(email, content=None, version=None):
    value = content if content is not None else email
    v = f"<versionToUpdate>{version}</versionToUpdate>" if version else ""
    return f'<UpdatePersonContactInformation xmlns="{UPD[1]}" xmlns:c="{P}:5"><actor><c:id><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>{HANNA}</c:extension></c:id></actor><personId><c:root>1.2.752.129.2.1.3.1</c:root><c:extension>{HANNA}</c:extension></personId>{v}<contactInformation><c:contactType>email</c:contactType><c:value>{value}</c:value><c:digitalNotification>true</c:digitalNotification></contactInformation></UpdatePersonContactInformation>'


def logged(corr):
    deadline = time.time() + 3
    while time.time() < deadline:
        with open(LOG, encoding="utf-8", errors="replace") as f:
            if corr in f.read():
                return True
        time.sleep(0.05)
    return False


def rejected(name, path, body, expect_status, expect_text, **kw):
    before = hanna_state()
    status, text, corr = post(path, body, **kw)
    t.check(status == expect_status, f"{name}: status {status}, expected {expect_status}: {text[:300]}")
    t.check(expect_text.lower() in text.lower(), f"{name}: {expect_text!r} not in {text[:400]}")
    t.check(logged(corr), f"{name}: no log line with correlation id {corr}")
    t.check(hanna_state() == before, f"{name}: storage changed")


# Accepted variations
s, text, _ = post(GPFP[0], envelope(gpfp_body()))
t.check(s == 200 and "tolvan@example.se" in text, "default namespace on the body element, prefixes declared on elements")
env = f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP11}" xmlns:ns9="{GPFP[1]}" xmlns:urn="{P}:5" xmlns:la="urn:riv:itintegration:registry:1"><SOAP-ENV:Header><la:LogicalAddress>{LA}</la:LogicalAddress></SOAP-ENV:Header><SOAP-ENV:Body>{gpfp_body("prefixed")}</SOAP-ENV:Body></SOAP-ENV:Envelope>'
s, text, _ = post(GPFP[0], env)
t.check(s == 200 and "tolvan@example.se" in text, "prefixes declared on the Envelope, boolean 0")
s, text, _ = post(GPFP[0], envelope(gpfp_body()), headers={"SOAPAction": '"urn:wrong:action"'})
t.check(s == 200, "a different SOAPAction is accepted (lenient, as the platform)")
s, text, _ = post(GPFP[0], b"\xef\xbb\xbf" + envelope(gpfp_body()).encode())
t.check(s == 200, "UTF-8 BOM accepted")
spaced = envelope(gpfp_body()).replace("><", ">\n  <!-- a comment -->\n  <")
s, text, _ = post(GPFP[0], '<?xml version="1.0" encoding="UTF-8"?>\n' + spaced)
t.check(s == 200 and "tolvan@example.se" in text, "whitespace and comments between elements")

# CDATA in a value is stored as its text
s, text, _ = post(UPD[0], envelope(update_body(None, "<![CDATA[hanna.cdata@example.se]]>", current_version())))
t.check(s == 200 and "<p:resultCode>OK</p:resultCode>" in text and "hanna.cdata@example.se" in text, f"CDATA value: {text[:300]}")

# Rejected requests
rejected("no LogicalAddress", GPFP[0], envelope(gpfp_body(), header=""), 500, "LogicalAddress header")
rejected("SOAP 1.2 envelope", UPD[0], envelope(update_body("x@example.se")).replace(SOAP11, "http://www.w3.org/2003/05/soap-envelope"), 500, "SOAP 1.1 only")
rejected("SOAP 1.2 content type", UPD[0], envelope(update_body("x@example.se")), 500, "soap:VersionMismatch", content_type='application/soap+xml; charset=utf-8; action="x"')
rejected("DTD", UPD[0], '<!DOCTYPE x [<!ENTITY e "v">]>' + envelope(update_body("x@example.se")), 500, "DOCTYPE/DTD is not allowed")
rejected("external entity", UPD[0], envelope(update_body(None, "&xxe;")), 500, "entity reference &amp;xxe;")
rejected("UTF-16", UPD[0], envelope(update_body("x@example.se")).encode("utf-16"), 500, "UTF-16", content_type="text/xml; charset=utf-16")
rejected("UTF-16 labelled UTF-8", UPD[0], envelope(update_body("x@example.se")).encode("utf-16"), 500, "UTF-16")
rejected("core elements in the wrong namespace", UPD[0], envelope(update_body("x@example.se").replace(f'xmlns:c="{P}:5"', f'xmlns:c="{UPD[1]}"')), 500, "expected namespace")
rejected("wrong content type", UPD[0], envelope(update_body("x@example.se")), 415, "text/xml", content_type="application/json")
rejected("rule violation (CT-5)", UPD[0], envelope(update_body("Hanna &lt;h@example.se&gt;", version=current_version())), 200, "INVALID_EMAIL_ADDRESS")

t.finish(capture.count)
