//! Contact information (CT-1 … CT-6, DN-1, DN-2): the entries a person may have and their checks.

use super::actor::Actor;
use super::email::EmailAddress;
use super::error::Violation;
use super::phone::PhoneNumber;
use super::version::Version;

/// One contact channel, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    /// A telephone number (mobile or fixed), always of type `sms` (CT-1).
    Sms(PhoneNumber),
    /// One RFC 5322 address, always of type `email` (CT-5).
    Email(EmailAddress),
}

impl Channel {
    /// The contract's `contactType` code.
    pub(crate) fn contact_type(&self) -> &'static str {
        match self {
            Channel::Sms(_) => "sms",
            Channel::Email(_) => "email",
        }
    }

    /// The value as stored and sent.
    pub fn value(&self) -> &str {
        match self {
            Channel::Sms(p) => p.as_str(),
            Channel::Email(e) => e.as_str(),
        }
    }

    /// Rebuilds a channel read back from our own storage, which only ever held validated values.
    pub fn from_stored(contact_type: &str, value: String) -> Option<Self> {
        match contact_type {
            "sms" => Some(Channel::Sms(PhoneNumber::from_stored(value))),
            "email" => Some(Channel::Email(EmailAddress::from_stored(value))),
            _ => None,
        }
    }
}

/// A validated contact entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactEntry {
    /// The channel and its value.
    pub channel: Channel,
    /// Whether the channel may be used for digital notifications (DN-1).
    pub digital_notification: bool,
}

/// Who entered the stored contact information, when, and through which system (CO-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The person or professional named as actor.
    pub actor: Actor,
    /// When we stored it (never the caller's `updateTime`).
    pub update_time: Version,
    /// HSA-id of the calling system.
    pub consumer_hsa_id: String,
}

/// A person's stored contact information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRecord {
    /// The version, strictly increasing per change (CO-3).
    pub version: Version,
    /// At most one sms and one email entry (CT-3); empty after a removal (CO-2).
    pub entries: Vec<ContactEntry>,
    /// The person prefers digital contact over paper (DN-2).
    pub optout_paper_notification: Option<bool>,
    /// Who gave the consent, when, and through which consumer (CO-1).
    pub provenance: Provenance,
}

/// A contact entry as the caller sent it, before any rule has looked at it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactInput {
    /// `contactType` as sent.
    pub(crate) contact_type: String,
    /// `value` as sent.
    pub(crate) value: Option<String>,
    /// Which qualifiers (CT-2) were present.
    pub(crate) qualifiers: Qualifiers,
    /// `digitalNotification` as sent.
    pub(crate) digital_notification: Option<bool>,
}

/// Presence of the contact qualifiers that CT-2 forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Qualifiers {
    /// `use` was sent.
    pub(crate) use_: bool,
    /// `rank` was sent.
    pub(crate) rank: bool,
    /// `comment` was sent.
    pub(crate) comment: bool,
    /// `period` was sent.
    pub(crate) period: bool,
}

impl Qualifiers {
    /// The first qualifier present, in the contract's element order.
    fn first_present(self) -> Option<&'static str> {
        [
            (self.use_, "use"),
            (self.rank, "rank"),
            (self.comment, "comment"),
            (self.period, "period"),
        ]
        .into_iter()
        .find_map(|(present, name)| present.then_some(name))
    }
}

/// Validates a complete contact set (CT-1 … CT-5, DN-1, DN-2); the first violation wins.
pub(crate) fn validate_contacts(
    inputs: &[ContactInput],
    optout_paper_notification: Option<bool>,
) -> Result<Vec<ContactEntry>, Violation> {
    let mut entries: Vec<ContactEntry> = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let path = format!("contactInformation[{}]", i + 1);
        let entry = validate_entry(input, &path)?;
        if entries
            .iter()
            .any(|e| e.channel.contact_type() == entry.channel.contact_type())
        {
            return Err(Violation::TooManyContacts {
                path,
                kind: entry.channel.contact_type(),
            });
        }
        entries.push(entry);
    }
    check_optout_has_digital_channel(&entries, optout_paper_notification)?;
    Ok(entries)
}

/// CT-1, CT-2, CT-4, CT-5 and DN-1 for one entry.
fn validate_entry(input: &ContactInput, path: &str) -> Result<ContactEntry, Violation> {
    let kind = check_contact_type(&input.contact_type, path)?;
    if let Some(qualifier) = input.qualifiers.first_present() {
        return Err(Violation::ContactQualifierNotAllowed {
            path: path.to_owned(),
            qualifier,
        });
    }
    let value = input.value.as_deref().unwrap_or("");
    let channel = match kind {
        Kind::Sms => Channel::Sms(PhoneNumber::parse(value).map_err(|problem| {
            Violation::InvalidPhoneNumber {
                path: path.to_owned(),
                problem,
            }
        })?),
        Kind::Email => Channel::Email(EmailAddress::parse(value).map_err(|problem| {
            Violation::InvalidEmailAddress {
                path: path.to_owned(),
                problem,
            }
        })?),
    };
    let digital_notification =
        input
            .digital_notification
            .ok_or_else(|| Violation::DigitalNotificationMissing {
                path: path.to_owned(),
            })?;
    Ok(ContactEntry {
        channel,
        digital_notification,
    })
}

enum Kind {
    Sms,
    Email,
}

/// CT-1: only `sms` and `email`; a phone is always `sms`.
fn check_contact_type(given: &str, path: &str) -> Result<Kind, Violation> {
    let refuse = |hint: &'static str| Violation::ContactTypeNotAllowed {
        path: path.to_owned(),
        given: given.to_owned(),
        hint,
    };
    match given {
        "sms" => Ok(Kind::Sms),
        "email" => Ok(Kind::Email),
        g if matches!(
            g.to_ascii_lowercase().as_str(),
            "phone" | "mobile" | "tel" | "telephone" | "telefon" | "mobil"
        ) =>
        {
            Err(refuse(
                " (a telephone number, mobile or fixed, is always sent as type sms)",
            ))
        }
        g if g.eq_ignore_ascii_case("sms") || g.eq_ignore_ascii_case("email") => {
            Err(refuse(" (the codes are lower-case: sms, email)"))
        }
        g if g.eq_ignore_ascii_case("e-mail")
            || g.eq_ignore_ascii_case("mail")
            || g.eq_ignore_ascii_case("epost") =>
        {
            Err(refuse(" (use email)"))
        }
        _ => Err(refuse("")),
    }
}

/// DN-2: opting out of paper needs at least one entry with digitalNotification = true.
fn check_optout_has_digital_channel(
    entries: &[ContactEntry],
    optout: Option<bool>,
) -> Result<(), Violation> {
    if optout == Some(true) && !entries.iter().any(|e| e.digital_notification) {
        return Err(Violation::DigitalNotificationRequired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sms(value: &str, dn: bool) -> ContactInput {
        ContactInput {
            contact_type: "sms".into(),
            value: Some(value.into()),
            digital_notification: Some(dn),
            ..Default::default()
        }
    }

    fn email(value: &str, dn: bool) -> ContactInput {
        ContactInput {
            contact_type: "email".into(),
            value: Some(value.into()),
            digital_notification: Some(dn),
            ..Default::default()
        }
    }

    #[test]
    fn ct1_only_sms_and_email_are_allowed_and_phone_is_sms() {
        assert!(validate_contacts(
            &[sms("+46701234567", true), email("a@example.se", false)],
            None
        )
        .is_ok());
        let phone = ContactInput {
            contact_type: "phone".into(),
            ..sms("+46701234567", true)
        };
        let err = validate_contacts(&[phone], None).unwrap_err();
        assert_eq!(err.rule(), "CT-1");
        assert!(err.to_string().contains("always sent as type sms"), "{err}");
        let fax = ContactInput {
            contact_type: "fax".into(),
            ..sms("+46701234567", true)
        };
        assert_eq!(validate_contacts(&[fax], None).unwrap_err().rule(), "CT-1");
    }

    #[test]
    fn ct2_qualifiers_are_rejected() {
        for q in ["use", "rank", "comment", "period"] {
            let mut input = sms("+46701234567", true);
            match q {
                "use" => input.qualifiers.use_ = true,
                "rank" => input.qualifiers.rank = true,
                "comment" => input.qualifiers.comment = true,
                _ => input.qualifiers.period = true,
            }
            let err = validate_contacts(&[input], None).unwrap_err();
            assert_eq!(
                err,
                Violation::ContactQualifierNotAllowed {
                    path: "contactInformation[1]".into(),
                    qualifier: q
                }
            );
        }
    }

    #[test]
    fn ct3_at_most_one_sms_and_one_email() {
        let err = validate_contacts(
            &[sms("+46701234567", true), sms("+46701234568", false)],
            None,
        )
        .unwrap_err();
        assert_eq!(err.rule(), "CT-3");
        assert!(
            err.to_string()
                .starts_with("contactInformation[2]/contactType"),
            "{err}"
        );
        assert!(validate_contacts(
            &[email("a@example.se", true), email("b@example.se", true)],
            None
        )
        .is_err());
    }

    #[test]
    fn ct4_ct5_values_are_checked_with_the_element_named() {
        let err = validate_contacts(&[sms("0701234567", true)], None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "contactInformation[1]/value: \"0701234567\" is not E.164 (must start with + and a country code, e.g. +46701234567) [CT-4]"
        );
        let err = validate_contacts(&[email("Anna <a@example.se>", true)], None).unwrap_err();
        assert_eq!(err.rule(), "CT-5");
        let missing = ContactInput {
            value: None,
            ..email("x", true)
        };
        assert_eq!(
            validate_contacts(&[missing], None).unwrap_err().rule(),
            "CT-5"
        );
    }

    #[test]
    fn dn1_every_entry_states_digital_notification_and_sms_only_where_true() {
        let missing = ContactInput {
            digital_notification: None,
            ..sms("+46701234567", true)
        };
        assert_eq!(
            validate_contacts(&[missing], None).unwrap_err().rule(),
            "DN-1"
        );
        // A number with false is stored as such: consumers may call it but never send sms to it.
        let entries = validate_contacts(&[sms("+46701234567", false)], None).unwrap();
        assert!(!entries[0].digital_notification);
        let entries = validate_contacts(&[sms("+46701234567", true)], None).unwrap();
        assert!(entries[0].digital_notification);
    }

    #[test]
    fn dn2_optout_requires_a_digital_channel() {
        assert_eq!(
            validate_contacts(&[sms("+46701234567", false)], Some(true)).unwrap_err(),
            Violation::DigitalNotificationRequired
        );
        assert_eq!(
            validate_contacts(&[], Some(true)).unwrap_err(),
            Violation::DigitalNotificationRequired
        );
        assert!(validate_contacts(
            &[sms("+46701234567", false), email("a@example.se", true)],
            Some(true)
        )
        .is_ok());
        assert!(validate_contacts(&[sms("+46701234567", false)], Some(false)).is_ok());
    }
}
