// The peer for the benchmark: GetPersonsForProfile served by the npm `soap` package from
// our WSDL, over HTTPS with client-certificate verification, with 100,000 synthetic
// persons in memory — what an integrator would stand up for staging.
// Usage: node benches/node-peer/server.js PORT   (from the repository root)
'use strict';
const fs = require('fs');
const path = require('path');
const https = require('https');
const soap = require(path.resolve('tests/interop/node/node_modules/soap'));

const port = Number(process.argv[2] || 9443);
const certs = path.resolve('certs-dev');
const PNR = '1.2.752.129.2.1.3.1';

function luhn(p9) {
  let sum = 0;
  for (let i = 0; i < p9.length; i += 1) {
    let d = Number(p9[i]) * (i % 2 === 0 ? 2 : 1);
    if (d > 9) d -= 9;
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

// The same synthetic population as benches/common/mod.rs.
function pnr(i) {
  const dayIndex = i % (80 * 336);
  const year = 1930 + Math.floor(dayIndex / 336);
  const rest = dayIndex % 336;
  const month = Math.floor(rest / 28) + 1;
  const day = (rest % 28) + 1;
  const serial = Math.floor(i / (80 * 336)) % 1000;
  const base = `${year}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}${String(serial).padStart(3, '0')}`;
  return base + luhn(base.slice(2, 11));
}

const people = new Map();
for (let i = 0; i < 100000; i += 1) {
  const id = pnr(i);
  people.set(id, {
    personalIdentity: { root: PNR, extension: id },
    protectedPersonIndicator: false,
    testIndicator: true,
    primaryIdentity: true,
    name: { givenName: `Förnamn${i}`, surname: 'Efternamn' },
    addressInformation: { residentialAddress: { postalAddress2: `Gatan ${i % 200}`, postalCode: 10000 + (i % 89999), city: 'Staden' } },
    contactInformation: [
      { contactType: 'sms', value: `+4670${String(i).padStart(7, '0')}`, digitalNotification: true },
      { contactType: 'email', value: `person${i}@example.se`, digitalNotification: true },
    ],
    protectedPopulationRecord: false,
  });
}

const service = {
  GetPersonsForProfileResponderService: {
    GetPersonsForProfileResponderPort: {
      GetPersonsForProfile(args) {
        const ids = Array.isArray(args.personId) ? args.personId : [args.personId];
        return {
          requestedPersonRecord: ids.map((id) => {
            const record = people.get(id.extension);
            return record ? { requestedPersonalIdentity: id, personRecord: record } : { requestedPersonalIdentity: id };
          }),
        };
      },
    },
  },
};

const wsdlPath = path.resolve('wsdl/GetPersonsForProfileInteraction_5.0_RIVTABP21.wsdl');
// node-soap reads only the first message part (node-soap #704): body part first.
const wsdl = fs.readFileSync(wsdlPath, 'utf8').replace(/(<wsdl:part name="LogicalAddress"[\s\S]*?<\/wsdl:part>)(\s*)(<wsdl:part name="parameters"[^>]*\/>)/, '$3$2$1');
const server = https.createServer({
  cert: fs.readFileSync(path.join(certs, 'server.pem')),
  key: fs.readFileSync(path.join(certs, 'server.key')),
  ca: fs.readFileSync(path.join(certs, 'ca.pem')),
  requestCert: true,
  rejectUnauthorized: true,
  minVersion: 'TLSv1.2',
});
server.keepAliveTimeout = 60000;
soap.listen(server, { path: '/GetPersonsForProfile/5/rivtabp21', services: service, xml: wsdl, uri: wsdlPath });
server.listen(port, '127.0.0.1');
