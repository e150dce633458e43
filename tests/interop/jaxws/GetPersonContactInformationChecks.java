package interop;

import static interop.Suite.*;

import interop.gen.getpersoncontactinformation.*;
import java.util.List;
import java.util.stream.Collectors;
import org.w3c.dom.Element;

/** GetPersonContactInformation 4.0 through the restricted contract. */
final class GetPersonContactInformationChecks {
    private static GetPersonContactInformationResponderInterface port;

    private GetPersonContactInformationChecks() {}

    static GetPersonContactInformationResponseType read(String person) {
        IIType id = new IIType();
        id.setRoot(rootOf(person));
        id.setExtension(person);
        GetPersonContactInformationType req = new GetPersonContactInformationType();
        req.setPersonId(id);
        return call(() -> port.getPersonContactInformation(LA, req));
    }

    static List<String> values(ContactInformationRecordType rec) {
        return rec == null ? List.of() : rec.getContactInformation().stream()
                .map(c -> c.getContactType() + "|" + c.getValue() + "|" + c.isDigitalNotification())
                .collect(Collectors.toList());
    }

    static void run() {
        port = configure(new GetPersonContactInformationResponderService(wsdl("GetPersonContactInformation"))
                .getGetPersonContactInformationResponderPort(), "/GetPersonContactInformation/4/rivtabp21", CONSUMER);
        ContactInformationRecordType rec = read("191212121212").getContactInformationRecord();
        check(values(rec).equals(List.of("sms|+46701234567|true", "email|tolvan@example.se|true")), "GPCI Tolvan " + values(rec));
        rec = read("197001013452").getContactInformationRecord();
        // Nothing stored, or (after the zeep suite's withdrawal) an empty record: never a value (PR-3, PR-4).
        check(values(rec).isEmpty() && (rec == null || rec.isProtectedPersonIndicator()), "GPCI protected: no contact information");
        check(read("194003031129").getContactInformationRecord() == null, "GPCI deceased: no contact information (PR-6)");
        check(read("200112121215").getContactInformationRecord() == null, "GPCI unknown person: no record");
        // GU-1: the child's route arrives in the response's xs:any slot, kept as DOM by the generated client.
        Element route = resultElement(read("201806051239").getAny(), "notificationRoute");
        List<String> guardians = route == null ? List.of() : children(route, "guardian").stream()
                .map(g -> childText(children(g, "personId").get(0), "extension")).sorted().collect(Collectors.toList());
        check(route != null && "guardians".equals(childText(route, "route")) && "GU-1".equals(childText(route, "ruleId"))
                && guardians.equals(List.of("198309214578", "198503142385")), "GU-1 route with both guardians " + guardians);
    }
}
