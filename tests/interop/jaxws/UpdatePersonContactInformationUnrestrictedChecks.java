package interop;

import static interop.GetPersonContactInformationUnrestrictedChecks.snapshot;
import static interop.GetPersonContactInformationUnrestrictedChecks.unchanged;
import static interop.GetPersonContactInformationUnrestrictedChecks.version;
import static interop.Suite.*;

import interop.gen.updatepersoncontactinformationunrestricted.*;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.xml.ws.soap.SOAPFaultException;

/** UpdatePersonContactInformationUnrestricted 4.0 (its result element is capitalised, as published). */
final class UpdatePersonContactInformationUnrestrictedChecks {
    private static final String BERTIL = "198309214578";
    private static final String FRIDA = "197505055678";

    private UpdatePersonContactInformationUnrestrictedChecks() {}

    private static IIType pid(String person) {
        IIType id = new IIType();
        id.setRoot(rootOf(person));
        id.setExtension(person);
        return id;
    }

    private static UpdatePersonContactInformationUnrestrictedType request(String person, String version, String sms) {
        ActorType actor = new ActorType();
        actor.setId(pid(person));
        ContactInformationType c = new ContactInformationType();
        c.setContactType("sms");
        c.setValue(sms);
        c.setDigitalNotification(true);
        UpdatePersonContactInformationUnrestrictedType req = new UpdatePersonContactInformationUnrestrictedType();
        req.setActor(actor);
        req.setPersonId(pid(person));
        req.setVersionToUpdate(version);
        req.getContactInformation().add(c);
        return req;
    }

    private static List<String> values(ContactInformationRecordType rec) {
        return rec == null ? List.of() : rec.getContactInformation().stream()
                .map(c -> c.getContactType() + "|" + c.getValue() + "|" + c.isDigitalNotification())
                .collect(Collectors.toList());
    }

    static void run() {
        var service = new UpdatePersonContactInformationUnrestrictedResponderService(wsdl("UpdatePersonContactInformationUnrestricted"));
        var extended = configure(service.getUpdatePersonContactInformationUnrestrictedResponderPort(),
                "/UpdatePersonContactInformationUnrestricted/4/rivtabp21", EXTENDED);
        String before = version(BERTIL);
        var req = request(BERTIL, before, "+46731234560");
        var res = call(() -> extended.updatePersonContactInformationUnrestricted(LA, req)).getUpdatePersonContactInformationUnrestrictedResult();
        check(res.getResult().getResultCode() == ResultCodeType.OK && values(res.getContactInformationRecord()).equals(List.of("sms|+46731234560|true"))
                && (before == null || res.getContactInformationRecord().getVersion().compareTo(before) > 0),
                "Unrestricted update OK " + res.getResult().getResultText());

        Map<String, String> snapshot = snapshot(FRIDA);
        var protectedReq = request(FRIDA, version(FRIDA), "+46701112233");
        res = call(() -> extended.updatePersonContactInformationUnrestricted(LA, protectedReq)).getUpdatePersonContactInformationUnrestrictedResult();
        check(res.getResult().getResultCode() == ResultCodeType.ERROR && "PROTECTED_PERSON".equals(errorCode(res.getResult().getAny()))
                && res.getContactInformationRecord() == null, "Unrestricted update still refuses protected persons: " + errorCode(res.getResult().getAny()));
        unchanged("Unrestricted PROTECTED_PERSON", FRIDA, snapshot);

        // With Bertil's current version, so that the update would have gone through had it not been refused.
        var consumer = configure(service.getUpdatePersonContactInformationUnrestrictedResponderPort(),
                "/UpdatePersonContactInformationUnrestricted/4/rivtabp21", CONSUMER);
        snapshot = snapshot(BERTIL);
        var plainReq = request(BERTIL, version(BERTIL), "+46731234560");
        SOAPFaultException f = faultOf(() -> consumer.updatePersonContactInformationUnrestricted(LA, plainReq));
        check(isClientFault(f, "Obehörigt anrop för system SE2321000016-1001"), "Unrestricted update refused for a plain consumer " + faultText(f));
        unchanged("Unrestricted update by a plain consumer", BERTIL, snapshot);
    }
}
