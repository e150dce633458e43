package interop;

import static interop.Suite.*;

import interop.gen.getpersonsforprofileunrestricted.*;
import java.util.List;
import javax.xml.ws.soap.SOAPFaultException;

/** GetPersonsForProfileUnrestricted 5.0: the full profile for a configured consumer (PR-5). */
final class GetPersonsForProfileUnrestrictedChecks {
    private GetPersonsForProfileUnrestrictedChecks() {}

    private static GetPersonsForProfileUnrestrictedResponderInterface port(GetPersonsForProfileUnrestrictedResponderService service, String cert) {
        return configure(service.getGetPersonsForProfileUnrestrictedResponderPort(), "/GetPersonsForProfileUnrestricted/5/rivtabp21", cert);
    }

    private static GetPersonsForProfileUnrestrictedType request(String person, String profile) {
        IIType id = new IIType();
        id.setRoot(rootOf(person));
        id.setExtension(person);
        GetPersonsForProfileUnrestrictedType req = new GetPersonsForProfileUnrestrictedType();
        req.getPersonId().add(id);
        req.setProfile(LookupProfileType.fromValue(profile));
        req.setIgnoreReferredIdentity(false);
        return req;
    }

    static void run() {
        var service = new GetPersonsForProfileUnrestrictedResponderService(wsdl("GetPersonsForProfileUnrestricted"));
        var extended = port(service, EXTENDED);
        var req = request("197001013452", "P3");
        PersonRecordType p = call(() -> extended.getPersonsForProfileUnrestricted(LA, req)).getRequestedPersonRecord().get(0).getPersonRecord();
        // Erik's contact information was erased when he became protected (PR-4): P3, with birth, and no contacts.
        check(p.isProtectedPersonIndicator() && p.getContactInformation().isEmpty() && p.getBirth() != null
                && p.getAddressInformation() != null, "PR-5 Unrestricted P3 for a protected person (contacts erased, PR-4)");
        var consumer = port(service, CONSUMER);
        SOAPFaultException f = faultOf(() -> consumer.getPersonsForProfileUnrestricted(LA, req));
        check(isClientFault(f, "Obehörigt anrop för system SE2321000016-1001"), "PR-5 Unrestricted refused for a plain consumer " + faultText(f));
    }
}
