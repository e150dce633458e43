//! Turning domain values into column values and back, shared by both backends.

use super::StoreError;
use crate::domain::{
    Actor, Channel, ContactEntry, ContactRecord, CountryCode, Deregistration, DeregistrationReason,
    Gender, HistoricalAddress, MaritalCode, MaritalStatus, Name, Person, PersonId, PostalAddress,
    Protection, Provenance, RegisterData, Version,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A `persons` row as text and flags, the form both SQL dialects bind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PersonRow {
    /// `root:extension`, the primary key ([`crate::domain::PersonId::key`]).
    pub key: String,
    pub(crate) given_name: String,
    pub(crate) middle_name: Option<String>,
    pub(crate) surname: String,
    /// `YYYY-MM-DD`; none for reserve identities.
    pub(crate) birth_date: Option<String>,
    pub(crate) care_of: Option<String>,
    pub(crate) street: Option<String>,
    pub(crate) postal_code: Option<String>,
    pub(crate) city: Option<String>,
    pub(crate) sekretessmarkering: bool,
    pub(crate) skyddad_folkbokforing: bool,
    /// The register marks this a test person, not a real one.
    pub(crate) test_indicator: bool,
    /// JSON array of guardian keys.
    pub(crate) guardians: String,
    /// JSON of the register data beyond the columns (deregistration, …); NULL when none.
    pub(crate) register: Option<String>,
}

/// A `contact_records` row: the record and its provenance (CO-1) as columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContactRow {
    /// `YYYYMMDDhhmmss`, the record's version (CO-3).
    pub version: String,
    /// JSON array of entries.
    pub entries: String,
    /// `optoutPaperNotification`; none when never sent.
    pub(crate) optout: Option<bool>,
    /// `person` or `professional`.
    pub(crate) actor_kind: String,
    pub(crate) actor_root: String,
    pub(crate) actor_extension: String,
    /// Organisation root; set only for a professional actor.
    pub(crate) org_root: Option<String>,
    /// Organisation id; set only for a professional actor.
    pub(crate) org_extension: Option<String>,
    /// `YYYYMMDDhhmmss`, equal to the version.
    pub(crate) update_time: String,
    /// The HSA-id of the system that stored it (or `import`).
    pub(crate) consumer_hsa_id: String,
}

#[derive(Serialize, Deserialize)]
struct EntryJson {
    t: String,
    v: String,
    d: bool,
}

impl PersonRow {
    /// The row for a person.
    pub(crate) fn from_person(p: &Person) -> Self {
        let address = p.address.clone().unwrap_or_default();
        let guardians: Vec<String> = p.guardians.iter().map(PersonId::key).collect();
        Self {
            key: p.id.key(),
            given_name: p.name.given.clone(),
            middle_name: p.name.middle.clone(),
            surname: p.name.surname.clone(),
            birth_date: p.birth_date.map(|d| d.format("%Y-%m-%d").to_string()),
            care_of: address.care_of,
            street: address.street,
            postal_code: address.postal_code,
            city: address.city,
            sekretessmarkering: p.protection.sekretessmarkering,
            skyddad_folkbokforing: p.protection.skyddad_folkbokforing,
            test_indicator: p.test_indicator,
            guardians: serde_json::to_string(&guardians).unwrap_or_else(|_| "[]".into()),
            register: RegisterJson::of(p).to_column(),
        }
    }

    /// The person in this row.
    pub(crate) fn into_person(self) -> Result<Person, StoreError> {
        let id = PersonId::from_key(&self.key)
            .ok_or_else(|| StoreError::Corrupt(format!("person key {:?}", self.key)))?;
        let guardian_keys: Vec<String> = serde_json::from_str(&self.guardians)
            .map_err(|e| StoreError::Corrupt(format!("guardians: {e}")))?;
        let guardians = guardian_keys
            .iter()
            .filter_map(|k| PersonId::from_key(k))
            .collect();
        let birth_date = self
            .birth_date
            .as_deref()
            .and_then(|d| d.parse::<NaiveDate>().ok());
        let register = RegisterJson::from_column(self.register.as_deref())?;
        let has_address = self.care_of.is_some()
            || self.street.is_some()
            || self.postal_code.is_some()
            || self.city.is_some();
        Ok(Person {
            id,
            name: Name {
                given: self.given_name,
                middle: self.middle_name,
                surname: self.surname,
            },
            birth_date,
            address: has_address.then_some(PostalAddress {
                care_of: self.care_of,
                street: self.street,
                postal_code: self.postal_code,
                city: self.city,
            }),
            protection: Protection {
                sekretessmarkering: self.sekretessmarkering,
                skyddad_folkbokforing: self.skyddad_folkbokforing,
            },
            test_indicator: self.test_indicator,
            guardians,
            deregistration: register.deregistration()?,
            register: register.register()?,
        })
    }
}

impl ContactRow {
    /// The row for a record.
    pub(crate) fn from_record(r: &ContactRecord) -> Self {
        let entries: Vec<EntryJson> = r
            .entries
            .iter()
            .map(|e| EntryJson {
                t: e.channel.contact_type().into(),
                v: e.channel.value().into(),
                d: e.digital_notification,
            })
            .collect();
        let (actor_kind, org_root, org_extension) = match &r.provenance.actor {
            Actor::Person(_) => ("person", None, None),
            Actor::Professional {
                organization_root,
                organization_id,
                ..
            } => (
                "professional",
                Some(organization_root.clone()),
                Some(organization_id.clone()),
            ),
        };
        Self {
            version: r.version.to_string(),
            entries: serde_json::to_string(&entries).unwrap_or_else(|_| "[]".into()),
            optout: r.optout_paper_notification,
            actor_kind: actor_kind.into(),
            actor_root: r.provenance.actor.id_root().into(),
            actor_extension: r.provenance.actor.id_extension().into(),
            org_root,
            org_extension,
            update_time: r.provenance.update_time.to_string(),
            consumer_hsa_id: r.provenance.consumer_hsa_id.clone(),
        }
    }

    /// The record in this row.
    pub(crate) fn into_record(self) -> Result<ContactRecord, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(what.to_owned());
        let version = Version::parse(&self.version).ok_or_else(|| corrupt("version"))?;
        let update_time =
            Version::parse(&self.update_time).ok_or_else(|| corrupt("update_time"))?;
        let json: Vec<EntryJson> = serde_json::from_str(&self.entries)
            .map_err(|e| StoreError::Corrupt(format!("entries: {e}")))?;
        let entries = json
            .into_iter()
            .map(|e| {
                Channel::from_stored(&e.t, e.v)
                    .map(|channel| ContactEntry {
                        channel,
                        digital_notification: e.d,
                    })
                    .ok_or_else(|| corrupt("contact type"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let actor = match self.actor_kind.as_str() {
            "person" => Actor::Person(
                PersonId::from_key(&format!("{}:{}", self.actor_root, self.actor_extension))
                    .ok_or_else(|| corrupt("actor"))?,
            ),
            _ => Actor::Professional {
                hsa_id: self.actor_extension,
                organization_root: self.org_root.unwrap_or_default(),
                organization_id: self.org_extension.unwrap_or_default(),
            },
        };
        Ok(ContactRecord {
            version,
            entries,
            optout_paper_notification: self.optout,
            provenance: Provenance {
                actor,
                update_time,
                consumer_hsa_id: self.consumer_hsa_id,
            },
        })
    }
}

/// The register data kept as JSON: added fields need no new column in either backend.
#[derive(Serialize, Deserialize, Default)]
struct RegisterJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deregistration: Option<DatedCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gender: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    citizenship: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    marital: Option<DatedCode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    referred: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    linked: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    history: Vec<HistoryJson>,
    /// The current address has applied while the person was protected (PR-7).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    address_protected: bool,
}

/// A register code and the day it applies from.
#[derive(Serialize, Deserialize)]
struct DatedCode {
    #[serde(alias = "reason")]
    code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    date: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct HistoryJson {
    until: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    care_of: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    city: Option<String>,
    /// It applied while the person was protected (PR-7).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    protected: bool,
}

fn day(d: NaiveDate) -> String {
    d.to_string() // ISO 8601, YYYY-MM-DD
}

fn parse_day(text: &str) -> Result<NaiveDate, StoreError> {
    text.parse::<NaiveDate>()
        .map_err(|_| StoreError::Corrupt(format!("date {text:?}")))
}

fn ids(keys: &[String]) -> Result<Vec<PersonId>, StoreError> {
    keys.iter()
        .map(|k| {
            PersonId::from_key(k).ok_or_else(|| StoreError::Corrupt(format!("identity {k:?}")))
        })
        .collect()
}

impl RegisterJson {
    fn of(p: &Person) -> Self {
        let r = &p.register;
        Self {
            deregistration: p.deregistration.map(|d| DatedCode {
                code: d.reason.code().to_owned(),
                date: d.date.map(day),
            }),
            gender: r.gender.map(|g| g.code().to_owned()),
            citizenship: r
                .citizenship
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect(),
            marital: r.marital_status.map(|m| DatedCode {
                code: m.code.code().to_owned(),
                date: m.date.map(day),
            }),
            referred: r.referred.iter().map(PersonId::key).collect(),
            linked: r.linked.iter().map(PersonId::key).collect(),
            history: r
                .address_history
                .iter()
                .map(|h| HistoryJson {
                    until: day(h.until),
                    care_of: h.address.care_of.clone(),
                    street: h.address.street.clone(),
                    postal_code: h.address.postal_code.clone(),
                    city: h.address.city.clone(),
                    protected: h.applied_while_protected,
                })
                .collect(),
            address_protected: r.address_applied_while_protected,
        }
    }

    /// NULL when there is nothing beyond the columns.
    fn to_column(&self) -> Option<String> {
        serde_json::to_string(self).ok().filter(|json| json != "{}")
    }

    fn from_column(text: Option<&str>) -> Result<Self, StoreError> {
        text.map_or(Ok(Self::default()), |t| {
            serde_json::from_str(t).map_err(|e| StoreError::Corrupt(format!("register: {e}")))
        })
    }

    fn deregistration(&self) -> Result<Option<Deregistration>, StoreError> {
        self.deregistration
            .as_ref()
            .map(|d| {
                let reason = DeregistrationReason::from_code(&d.code).ok_or_else(|| {
                    StoreError::Corrupt(format!("deregistration reason {:?}", d.code))
                })?;
                Ok(Deregistration {
                    reason,
                    date: d.date.as_deref().map(parse_day).transpose()?,
                })
            })
            .transpose()
    }

    fn register(&self) -> Result<RegisterData, StoreError> {
        let corrupt = |what: &str, v: &str| StoreError::Corrupt(format!("{what} {v:?}"));
        Ok(RegisterData {
            gender: self
                .gender
                .as_deref()
                .map(|g| Gender::from_code(g).ok_or_else(|| corrupt("gender", g)))
                .transpose()?,
            citizenship: self
                .citizenship
                .iter()
                .map(|c| CountryCode::parse(c).ok_or_else(|| corrupt("country", c)))
                .collect::<Result<_, _>>()?,
            marital_status: self
                .marital
                .as_ref()
                .map(|m| {
                    let code = MaritalCode::from_code(&m.code)
                        .ok_or_else(|| corrupt("marital status", &m.code))?;
                    Ok::<_, StoreError>(MaritalStatus {
                        code,
                        date: m.date.as_deref().map(parse_day).transpose()?,
                    })
                })
                .transpose()?,
            referred: ids(&self.referred)?,
            linked: ids(&self.linked)?,
            address_history: self
                .history
                .iter()
                .map(|h| {
                    Ok(HistoricalAddress {
                        address: PostalAddress {
                            care_of: h.care_of.clone(),
                            street: h.street.clone(),
                            postal_code: h.postal_code.clone(),
                            city: h.city.clone(),
                        },
                        until: parse_day(&h.until)?,
                        applied_while_protected: h.protected,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            address_applied_while_protected: self.address_protected,
        })
    }
}
