package interop;

import static interop.Suite.*;

import interop.gen.getpersonsforprofile.*;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;

/** GetPersonsForProfile 5.0 through the restricted contract (the zeep suite's reads). */
final class GetPersonsForProfileChecks {
    private static GetPersonsForProfileResponderInterface port;

    private GetPersonsForProfileChecks() {}

    static IIType pid(String person) {
        return id(rootOf(person), person);
    }

    static IIType id(String root, String extension) {
        IIType id = new IIType();
        id.setRoot(root);
        id.setExtension(extension);
        return id;
    }

    static GetPersonsForProfileType request(String profile, boolean ignoreReferred, List<IIType> ids) {
        GetPersonsForProfileType req = new GetPersonsForProfileType();
        req.getPersonId().addAll(ids);
        req.setProfile(LookupProfileType.fromValue(profile));
        req.setIgnoreReferredIdentity(ignoreReferred);
        return req;
    }

    static List<RequestedPersonRecordType> ask(String profile, boolean ignoreReferred, IIType... ids) {
        GetPersonsForProfileType req = request(profile, ignoreReferred, Arrays.asList(ids));
        return call(() -> port.getPersonsForProfile(LA, req)).getRequestedPersonRecord();
    }

    static PersonRecordType record(String person, String profile) {
        return ask(profile, false, pid(person)).get(0).getPersonRecord();
    }

    static List<String> values(PersonRecordType p) {
        return p.getContactInformation().stream()
                .map(c -> c.getContactType() + "|" + c.getValue() + "|" + c.isDigitalNotification())
                .collect(Collectors.toList());
    }

    static void run() {
        port = configure(new GetPersonsForProfileResponderService(wsdl("GetPersonsForProfile"))
                .getGetPersonsForProfileResponderPort(), "/GetPersonsForProfile/5/rivtabp21", CONSUMER);
        PersonRecordType p = record("191212121212", "P3");
        check(values(p).equals(List.of("sms|+46701234567|true", "email|tolvan@example.se|true")), "P3 Tolvan contacts " + values(p));
        check(Boolean.TRUE.equals(p.isOptoutPaperNotification()) && p.getVersion() != null
                && "Tolvan".equals(p.getName().getGivenName()), "P3 Tolvan flags/version/name");
        check("Stockholm".equals(p.getAddressInformation().getResidentialAddress().getCity())
                && "1912-12-12".equals(p.getBirth().getDateOfBirth().getValue()), "P3 address/birth");
        check("191212121212".equals(p.getUpdatePersonContactInformationActor().getId().getExtension()), "P3 actor");

        p = record("201806051239", "P1");
        check(p.getRelationship().isEmpty() && p.getAddressInformation() == null
                && "2018-06-05".equals(p.getBirth().getDateOfBirth().getValue()), "P1: birth, no guardians, no address");
        p = record("201806051239", "P2");
        check(p.getAddressInformation() != null && values(p).isEmpty() && p.getRelationship().isEmpty(), "P2 child: address, no contacts, no guardians");
        p = record("201806051239", "P4");
        List<String> guardians = new ArrayList<>();
        p.getRelationship().forEach(r -> guardians.add(r.getRelationshipId().getPersonalIdentity().getExtension()));
        Collections.sort(guardians);
        check(guardians.equals(List.of("198309214578", "198503142385")), "P4 child guardians " + guardians);
        check(p.getRelationship().stream().allMatch(r -> "V".equals(r.getRelationshipType())
                && "2036-06-05".equals(r.getRelationshipToDate().getValue()) && r.getName().getGivenName() != null),
                "P4 guardians: V, until 18, named");
        p = record("198309214578", "P4");
        List<String> citizenship = p.getCitizenship().stream().map(CitizenshipType::getCitizenshipCountryCode).sorted().collect(Collectors.toList());
        check("M".equals(p.getGender()) && citizenship.equals(List.of("DK", "SE"))
                && "G".equals(p.getMaritalStatus().getMaritalStatusCode()), "P4 gender, citizenship, marital status " + citizenship);
        p = record("194003031129", "P1");
        check("AV".equals(p.getDeregistration().getDeregistrationReasonCode()), "P1 deceased: deregistration AV (PR-6)");

        List<RequestedPersonRecordType> r = ask("P1", false, pid("199601011100"), id(RESERVE, "R2026000002"));
        check(r.stream().map(x -> x.getRequestedPersonalIdentity().getExtension()).collect(Collectors.toList()).equals(List.of("199601011100", "R2026000002"))
                && r.stream().map(x -> x.getPersonRecord().getPersonalIdentity().getExtension()).collect(Collectors.toList()).equals(List.of("199601011118", "197010632391")),
                "referred and linked ids answered with the current identity");
        RequestedPersonRecordType one = ask("P1", true, pid("199601011100")).get(0);
        check(one.getPersonRecord() == null && "PERSON_NOT_FOUND".equals(errorCode(one.getAny())),
                "ignoreReferredIdentity=true: only the asked id's own record, got " + errorCode(one.getAny()));
        p = record("197001013452", "P3");
        check(p.isProtectedPersonIndicator() && values(p).isEmpty() && p.getAddressInformation() == null
                && p.getRelationship().isEmpty(), "PR-3 protected person gets P1 on restricted");
        one = ask("P3", false, pid("200112121215")).get(0);
        check(one.getPersonRecord() == null && "200112121215".equals(one.getRequestedPersonalIdentity().getExtension())
                && "PERSON_NOT_FOUND".equals(errorCode(one.getAny())), "unknown person: echo, no record, PERSON_NOT_FOUND");
        r = ask("P1", false, pid("198503142385"), pid("200112121215"), pid("191212121212"));
        check(r.stream().map(x -> x.getRequestedPersonalIdentity().getExtension()).collect(Collectors.toList())
                .equals(List.of("198503142385", "200112121215", "191212121212")), "several ids in order");
        check(r.stream().map(x -> x.getPersonRecord() != null).collect(Collectors.toList()).equals(List.of(true, false, true)), "several ids: known/unknown");
        r = ask("P1", false, pid("191212121213"), pid("191212121212"));
        check(r.get(0).getPersonRecord() == null && "INVALID_PERSON_ID".equals(errorCode(r.get(0).getAny()))
                && r.get(1).getPersonRecord() != null, "a bad id is answered in its own record, the batch is not Faulted");

        GetPersonsForProfileType tooMany = request("P1", false, Collections.nCopies(501, pid("191212121212")));
        var f = faultOf(() -> port.getPersonsForProfile(LA, tooMany));
        check(isClientFault(f, "at most 500", "logId"), "501 ids: soap:Client Fault " + faultText(f));
        GetPersonsForProfileType p6 = request("P6", false, List.of(pid("191212121212")));
        f = faultOf(() -> port.getPersonsForProfile(LA, p6));
        check(isClientFault(f, "P1, P2, P3, P4 or P5"), "P6: soap:Client Fault naming P1-P5 " + faultText(f));
    }
}
