package interop;

import static interop.GetPersonContactInformationUnrestrictedChecks.snapshot;
import static interop.GetPersonContactInformationUnrestrictedChecks.unchanged;
import static interop.GetPersonContactInformationUnrestrictedChecks.storedValues;
import static interop.GetPersonContactInformationUnrestrictedChecks.version;
import static interop.Suite.*;

import interop.gen.updatepersoncontactinformation.*;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * UpdatePersonContactInformation 4.0: rule refusals (the RIVTA result ERROR with our error
 * code and rule ID, nothing stored), then a replace, a stale version and a removal for Anna
 * (the Node suite's person; her record ends empty, as it found it after that suite).
 */
final class UpdatePersonContactInformationChecks {
    private static final String ANNA = "198503142385";
    private static UpdatePersonContactInformationResponderInterface port;

    private UpdatePersonContactInformationChecks() {}

    static IIType pid(String person) {
        IIType id = new IIType();
        id.setRoot(rootOf(person));
        id.setExtension(person);
        return id;
    }

    static ContactInformationType entry(String type, String value, boolean digitalNotification) {
        ContactInformationType c = new ContactInformationType();
        c.setContactType(type);
        c.setValue(value);
        c.setDigitalNotification(digitalNotification);
        return c;
    }

    /** A request by PERSON themself, with their current version so that only the rule can refuse it. */
    static UpdatePersonContactInformationType request(String person, String version, ContactInformationType... contacts) {
        ActorType actor = new ActorType();
        actor.setId(pid(person));
        UpdatePersonContactInformationType req = new UpdatePersonContactInformationType();
        req.setActor(actor);
        req.setPersonId(pid(person));
        req.setVersionToUpdate(version);
        req.getContactInformation().addAll(List.of(contacts));
        return req;
    }

    static UpdatePersonContactInformationResultType update(UpdatePersonContactInformationType req) {
        return call(() -> port.updatePersonContactInformation(LA, req)).getUpdatePersonContactInformationResult();
    }

    static List<String> values(ContactInformationRecordType rec) {
        return rec == null ? List.of() : rec.getContactInformation().stream()
                .map(c -> c.getContactType() + "|" + c.getValue() + "|" + c.isDigitalNotification())
                .collect(Collectors.toList());
    }

    /** Sends a request the rules refuse and checks the answer and that nothing was stored. */
    private static void refused(String code, String rule, String person, Consumer<UpdatePersonContactInformationType> shape, ContactInformationType... contacts) {
        Map<String, String> before = snapshot(person);
        UpdatePersonContactInformationType req = request(person, version(person), contacts);
        shape.accept(req);
        UpdatePersonContactInformationResultType res = update(req);
        ResultType result = res.getResult();
        check(result.getResultCode() == ResultCodeType.ERROR && code.equals(errorCode(result.getAny()))
                && result.getResultText() != null && result.getResultText().contains("[" + rule + "]"),
                code + ": got " + result.getResultCode() + " " + errorCode(result.getAny()) + " " + result.getResultText());
        check(res.getContactInformationRecord() == null, code + ": no record on ERROR");
        unchanged(code, person, before);
    }

    private static void as(UpdatePersonContactInformationType req) {}

    static void run() {
        port = configure(new UpdatePersonContactInformationResponderService(wsdl("UpdatePersonContactInformation"))
                .getUpdatePersonContactInformationResponderPort(), "/UpdatePersonContactInformation/4/rivtabp21", CONSUMER);
        refused("INVALID_PHONE_NUMBER", "CT-4", ANNA, UpdatePersonContactInformationChecks::as, entry("sms", "0701112233", true));
        refused("CONTACT_TYPE_NOT_ALLOWED", "CT-1", ANNA, UpdatePersonContactInformationChecks::as, entry("phone", "+46701112233", true));
        refused("INVALID_EMAIL_ADDRESS", "CT-5", ANNA, UpdatePersonContactInformationChecks::as, entry("email", "Anna <anna@exempel.se>", true));
        refused("DIGITAL_NOTIFICATION_REQUIRED", "DN-2", ANNA, r -> r.setOptoutPaperNotification(true), entry("sms", "+46701112233", false));
        refused("ACTOR_INVALID", "CO-1", ANNA, r -> r.getActor().setId(pid("191212121212")), entry("sms", "+46701112233", true));
        refused("PROTECTED_PERSON", "PR-2", "197505055678", UpdatePersonContactInformationChecks::as, entry("sms", "+46701112233", true));
        refused("PERSON_DEREGISTERED", "PR-6", "194003031129", UpdatePersonContactInformationChecks::as, entry("sms", "+46701112233", true));

        String v0 = version(ANNA);
        UpdatePersonContactInformationType req = request(ANNA, v0, entry("sms", "+46701112233", true), entry("email", "anna@exempel.se", false));
        req.setOptoutPaperNotification(true);
        UpdatePersonContactInformationResultType res = update(req);
        ContactInformationRecordType rec = res.getContactInformationRecord();
        check(res.getResult().getResultCode() == ResultCodeType.OK
                && values(rec).equals(List.of("sms|+46701112233|true", "email|anna@exempel.se|false")), "valid replace " + values(rec));
        check(rec != null && Boolean.TRUE.equals(rec.isOptoutPaperNotification()) && ANNA.equals(rec.getUpdatePersonContactInformationActor().getId().getExtension())
                && (v0 == null || rec.getVersion().compareTo(v0) > 0), "valid replace: optout, actor, a later version");
        String v1 = rec == null ? null : rec.getVersion();
        List<String> stored = storedValues(ANNA);
        check(stored.equals(values(rec)), "valid replace: read back " + stored);

        Map<String, String> before = snapshot(ANNA);
        res = update(request(ANNA, v0, entry("sms", "+46701112233", true)));
        check(res.getResult().getResultCode() == ResultCodeType.ERROR && "VERSION_CONFLICT".equals(errorCode(res.getResult().getAny())),
                "VERSION_CONFLICT with the replaced version: " + errorCode(res.getResult().getAny()));
        unchanged("VERSION_CONFLICT", ANNA, before);

        res = update(request(ANNA, v1));
        check(res.getResult().getResultCode() == ResultCodeType.OK && values(res.getContactInformationRecord()).isEmpty(), "removal");
        check(storedValues(ANNA).isEmpty() && version(ANNA) != null, "read after removal: an empty record with a version");
    }
}
