// Calls every contract through clients the npm `soap` package generates from the live
// ?wsdl, over mutual TLS with the dev certificates; asserts on the decoded values and
// saves every response for the schema check. Usage: node suite.js BASE CERT_DIR OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');
const https = require('https');
const soap = require('soap');

const [BASE, CERTS, OUT] = process.argv.slice(2);
const LA = 'SE2321000016-LA01';
const PNR = '1.2.752.129.2.1.3.1';
let calls = 0, checks = 0, captured = 0;
const failures = [];
fs.mkdirSync(OUT, { recursive: true });

function check(ok, what) {
  checks += 1;
  if (!ok) { failures.push(what); console.error(`  FAIL ${what}`); }
}

// The one line per suite that run.sh and test.sh count (as common.py's report()).
const report = () => console.log(`interop: node soap: ${checks - failures.length} checks passed, ${failures.length} failed`);

const tls = (cert) => ({
  cert: fs.readFileSync(path.join(CERTS, `${cert}.pem`)),
  key: fs.readFileSync(path.join(CERTS, `${cert}.key`)),
  ca: fs.readFileSync(path.join(CERTS, 'ca.pem')),
});

function fetchText(url, agent) {
  return new Promise((resolve, reject) => {
    https.get(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
    }).on('error', reject);
  });
}

// node-soap builds the body from the first part of the input message only
// (vpulim/node-soap#704, #467); RIVTA messages list the LogicalAddress header part
// first. Its documented workaround: move the body part first in a local copy of the
// live WSDL. Everything else (types, imports, address) comes from the server as served.
function bodyPartFirst(wsdl) {
  return wsdl.replace(/(<wsdl:part name="LogicalAddress"[\s\S]*?<\/wsdl:part>)(\s*)(<wsdl:part name="parameters"[^>]*\/>)/, '$3$2$1');
}

async function client(contractPath, cert = 'consumer') {
  const opts = tls(cert);
  const agent = new https.Agent(opts);
  const live = await fetchText(`${BASE}${contractPath}?wsdl`, agent);
  const local = path.join(OUT, `..${contractPath.replace(/\//g, '_')}.wsdl`);
  fs.writeFileSync(local, bodyPartFirst(live));
  const c = await soap.createClientAsync(local, { wsdl_options: { httpsAgent: agent }, endpoint: `${BASE}${contractPath}` });
  c.setSecurity(new soap.ClientSSLSecurity(opts.key, opts.cert, opts.ca));
  c.addSoapHeader(`<itr:LogicalAddress xmlns:itr="urn:riv:itintegration:registry:1">${LA}</itr:LogicalAddress>`);
  c.on('response', (body) => { captured += 1; fs.writeFileSync(path.join(OUT, `node-${String(captured).padStart(4, '0')}.xml`), body); });
  return c;
}

async function call(c, op, args) {
  calls += 1;
  try {
    const [result] = await c[`${op}Async`](args);
    return { result };
  } catch (err) {
    return { fault: err };
  }
}

const pid = (n) => ({ root: PNR, extension: n });
const asList = (x) => (x === undefined || x === null ? [] : Array.isArray(x) ? x : [x]);
const values = (rec) => asList(rec && rec.contactInformation).map((c) => `${c.contactType}|${c.value}|${c.digitalNotification}`);
const faultString = (f) => (f && f.root && f.root.Envelope && f.root.Envelope.Body.Fault.faultstring) || String(f && f.message);

(async () => {
  const gpfp = await client('/GetPersonsForProfile/5/rivtabp21');
  let r = await call(gpfp, 'GetPersonsForProfile', { personId: [pid('191212121212')], profile: 'P3', ignoreReferredIdentity: false });
  const p = asList(r.result && r.result.requestedPersonRecord)[0].personRecord;
  check(JSON.stringify(values(p)) === JSON.stringify(['sms|+46701234567|true', 'email|tolvan@example.se|true']), `P3 values ${values(p)}`);
  check(p.name.givenName === 'Tolvan' && String(p.optoutPaperNotification) === 'true', 'P3 name/optout');
  r = await call(gpfp, 'GetPersonsForProfile', { personId: [pid('197001013452')], profile: 'P3', ignoreReferredIdentity: false });
  const prot = asList(r.result.requestedPersonRecord)[0].personRecord;
  check(values(prot).length === 0 && String(prot.protectedPersonIndicator) === 'true' && !prot.addressInformation, 'PR-3 protected P1');
  r = await call(gpfp, 'GetPersonsForProfile', { personId: [pid('201806051239'), pid('200112121215')], profile: 'P1', ignoreReferredIdentity: false });
  const recs = asList(r.result.requestedPersonRecord);
  check(recs.length === 2 && asList(recs[0].personRecord.relationship).length === 0 && !recs[1].personRecord, 'P1: no guardians; unknown person');
  r = await call(gpfp, 'GetPersonsForProfile', { personId: [pid('201806051239')], profile: 'P4', ignoreReferredIdentity: false });
  check(asList(asList(r.result.requestedPersonRecord)[0].personRecord.relationship).length === 2, 'P4: guardians');
  r = await call(gpfp, 'GetPersonsForProfile', { personId: [pid('199601011100')], profile: 'P5', ignoreReferredIdentity: false });
  const referred = asList(r.result.requestedPersonRecord)[0];
  check(referred.requestedPersonalIdentity.extension === '199601011100' && referred.personRecord.personalIdentity.extension === '199601011118', 'P5 referred id answered with the current identity');
  r = await call(gpfp, 'GetPersonsForProfile', { personId: [pid('191212121213'), pid('191212121212')], profile: 'P1', ignoreReferredIdentity: false });
  const batch = asList(r.result.requestedPersonRecord);
  check(!r.fault && batch.length === 2 && !batch[0].personRecord && batch[1].personRecord, 'bad id answered per id, no Fault');
  r = await call(gpfp, 'GetPersonsForProfile', { personId: [pid('191212121212')], profile: 'P7', ignoreReferredIdentity: false });
  check(r.fault && /P1, P2, P3, P4 or P5/.test(faultString(r.fault)), `P7 fault: ${faultString(r.fault)}`);

  const gpci = await client('/GetPersonContactInformation/4/rivtabp21');
  r = await call(gpci, 'GetPersonContactInformation', { personId: pid('191212121212') });
  check(values(r.result.contactInformationRecord).length === 2, 'GPCI values');
  const gpciU = await client('/GetPersonContactInformationUnrestricted/4/rivtabp21', 'extended');
  r = await call(gpciU, 'GetPersonContactInformationUnrestricted', { personId: pid('197001013452') });
  // Nothing stored, or (after the zeep suite's withdrawal) an empty record: never a value (PR-4).
  check(values(r.result && r.result.contactInformationRecord).length === 0, 'GPCI Unrestricted: erased when protected (PR-4)');
  const gpciDenied = await client('/GetPersonContactInformationUnrestricted/4/rivtabp21', 'consumer');
  r = await call(gpciDenied, 'GetPersonContactInformationUnrestricted', { personId: pid('197001013452') });
  check(r.fault && /Obehörigt anrop för system SE2321000016-1001/.test(faultString(r.fault)), 'Unrestricted refused');

  const upd = await client('/UpdatePersonContactInformation/4/rivtabp21');
  const who = '198503142385';
  r = await call(gpci, 'GetPersonContactInformation', { personId: pid(who) });
  const before = r.result.contactInformationRecord;
  const args = (contacts, version, extra = {}) => ({ actor: { id: pid(who) }, personId: pid(who), ...(version ? { versionToUpdate: version } : {}), contactInformation: contacts, ...extra });
  r = await call(upd, 'UpdatePersonContactInformation', args([{ contactType: 'sms', value: '0701234567', digitalNotification: true }], before.version));
  const err = r.result.updatePersonContactInformationResult.result;
  check(err.resultCode === 'ERROR' && /\[CT-4\]/.test(err.resultText), `CT-4 refusal: ${err.resultText}`);
  r = await call(gpci, 'GetPersonContactInformation', { personId: pid(who) });
  check(JSON.stringify(r.result.contactInformationRecord) === JSON.stringify(before), `storage unchanged after refusal: ${JSON.stringify(before)} -> ${JSON.stringify(r.result.contactInformationRecord)}`);
  r = await call(upd, 'UpdatePersonContactInformation', args([{ contactType: 'email', value: 'anna@exempel.se', digitalNotification: true }, { contactType: 'sms', value: '+46701234599', digitalNotification: false }], before.version));
  const ok = r.result.updatePersonContactInformationResult;
  check(ok.result.resultCode === 'OK' && values(ok.contactInformationRecord).length === 2, 'valid replace');
  r = await call(upd, 'UpdatePersonContactInformation', args([], before.version));
  check(r.result.updatePersonContactInformationResult.result.resultCode === 'ERROR' && /VERSION_CONFLICT|CO-3/.test(JSON.stringify(r.result)), 'version conflict');
  r = await call(upd, 'UpdatePersonContactInformation', args([], ok.contactInformationRecord.version));
  check(r.result.updatePersonContactInformationResult.result.resultCode === 'OK', 'removal');
  r = await call(gpci, 'GetPersonContactInformation', { personId: pid(who) });
  check(values(r.result.contactInformationRecord).length === 0, 'read after removal');

  const ping = await client('/PingForConfiguration/1/rivtabp21');
  r = await call(ping, 'PingForConfiguration', { serviceContractNamespace: 'urn:riv:strategicresourcemanagement:persons:person:GetPersonsForProfileResponder:5', logicalAddress: LA });
  check(r.result && r.result.version && asList(r.result.configuration).some((c) => c.name === 'storeAvailable' && c.value === 'true'), 'ping');

  console.log(`node soap: ${calls} calls, ${checks} checks, ${captured} messages captured for schema checks`);
  report();
  if (failures.length) { console.error(`node soap: ${failures.length} failed`); process.exit(1); }
})().catch((e) => {
  // An exception ends the suite early: it counts as one more failed check.
  console.error(e);
  check(false, `stopped early: ${e && e.message}`);
  report();
  process.exit(1);
});
