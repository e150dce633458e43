package interop;

import static interop.Suite.*;

import interop.gen.getpersoncontactinformationunrestricted.*;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import javax.xml.ws.soap.SOAPFaultException;

/**
 * GetPersonContactInformationUnrestricted 4.0, and the view of what the server holds that
 * the update checks compare before and after: read through the Unrestricted contract so
 * that protected persons' contacts are included.
 */
final class GetPersonContactInformationUnrestrictedChecks {
    private static GetPersonContactInformationUnrestrictedResponderService service;
    // The before/after reads around every refused update are many and alike: their answers
    // are not saved for the schema check (the checks' own reads are).
    private static GetPersonContactInformationUnrestrictedResponderInterface snapshots;

    private GetPersonContactInformationUnrestrictedChecks() {}

    private static GetPersonContactInformationUnrestrictedResponderInterface port(String cert, Answers answers) {
        if (service == null) {
            service = new GetPersonContactInformationUnrestrictedResponderService(wsdl("GetPersonContactInformationUnrestricted"));
        }
        return configure(service.getGetPersonContactInformationUnrestrictedResponderPort(),
                "/GetPersonContactInformationUnrestricted/4/rivtabp21", cert, answers);
    }

    private static GetPersonContactInformationUnrestrictedType request(String person) {
        IIType id = new IIType();
        id.setRoot(rootOf(person));
        id.setExtension(person);
        GetPersonContactInformationUnrestrictedType req = new GetPersonContactInformationUnrestrictedType();
        req.setPersonId(id);
        return req;
    }

    private static ContactInformationRecordType record(String person) {
        if (snapshots == null) {
            snapshots = port(EXTENDED, Answers.NOT_SAVED);
        }
        var req = request(person);
        return call(() -> snapshots.getPersonContactInformationUnrestricted(LA, req)).getContactInformationRecord();
    }

    /** The stored record's version, or null when nothing is stored. */
    static String version(String person) {
        ContactInformationRecordType rec = record(person);
        return rec == null ? null : rec.getVersion();
    }

    /** The stored entries as "type|value|digitalNotification". */
    static List<String> storedValues(String person) {
        ContactInformationRecordType rec = record(person);
        return rec == null ? List.of() : rec.getContactInformation().stream()
                .map(c -> c.getContactType() + "|" + c.getValue() + "|" + c.isDigitalNotification())
                .collect(Collectors.toList());
    }

    /** The whole stored record as XML, "none", or the Fault of a refused read (without its log id). */
    static String state(String person) {
        try {
            ContactInformationRecordType rec = record(person);
            return rec == null ? "none" : xml(rec);
        } catch (SOAPFaultException f) {
            return "fault " + faultText(f).replaceAll("logId\\W*[-\\w]+", "logId");
        }
    }

    /** What is stored for every demo person and PERSON. */
    static Map<String, String> snapshot(String person) {
        Set<String> people = new LinkedHashSet<>(PEOPLE);
        people.add(person);
        Map<String, String> s = new LinkedHashMap<>();
        people.forEach(p -> s.put(p, state(p)));
        return s;
    }

    /** Checks that nothing stored changed since BEFORE (a snapshot), absence included. */
    static void unchanged(String what, String person, Map<String, String> before) {
        Map<String, String> after = snapshot(person);
        Map<String, String> changed = new LinkedHashMap<>();
        before.forEach((p, was) -> {
            if (!was.equals(after.get(p))) {
                changed.put(p, was + " -> " + after.get(p));
            }
        });
        check(changed.isEmpty(), what + ": storage changed: " + changed);
    }

    static void run() {
        var req = request("197001013452");
        var extended = port(EXTENDED, Answers.SAVED);
        ContactInformationRecordType rec = call(() -> extended.getPersonContactInformationUnrestricted(LA, req)).getContactInformationRecord();
        check(rec == null || rec.getContactInformation().isEmpty(), "GPCI Unrestricted: nothing comes back after erasure (PR-4)");
        var consumer = port(CONSUMER, Answers.SAVED);
        SOAPFaultException f = faultOf(() -> consumer.getPersonContactInformationUnrestricted(LA, req));
        check(isClientFault(f, "Obehörigt anrop för system SE2321000016-1001"), "GPCI Unrestricted refused for a plain consumer " + faultText(f));
    }
}
