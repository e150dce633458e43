//! The actor of an update and the consent it carries (CO-1).

use super::error::Violation;
use super::identifier::{IdInput, IdentifierPolicy, PersonId, ROOT_HSA_ID};

/// Who entered the contact information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The person themself, e.g. through an e-service.
    Person(PersonId),
    /// A professional acting on the person's behalf.
    Professional {
        /// The professional's HSA-id (`actor/id/extension` under the HSA-id root).
        hsa_id: String,
        /// Root OID of the organisation's identifier.
        organization_root: String,
        /// The organisation's identifier under `organization_root`.
        organization_id: String,
    },
}

/// The actor as the caller sent it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ActorInput {
    /// `actor/id/root`.
    pub(crate) id_root: String,
    /// `actor/id/extension`.
    pub(crate) id_extension: Option<String>,
    /// `actor/professional/organizationId` as (root, extension), when sent.
    pub(crate) organization: Option<IdInput>,
}

impl Actor {
    /// The identifier root as written in `actor/id/root`.
    pub(crate) fn id_root(&self) -> &str {
        match self {
            Actor::Person(p) => p.root(),
            Actor::Professional { .. } => ROOT_HSA_ID,
        }
    }

    /// The identifier as written in `actor/id/extension`.
    pub(crate) fn id_extension(&self) -> &str {
        match self {
            Actor::Person(p) => p.extension(),
            Actor::Professional { hsa_id, .. } => hsa_id,
        }
    }
}

/// Validates the actor of an update of `subject` (CO-1).
pub(crate) fn validate_actor(
    input: &ActorInput,
    subject: &PersonId,
    policy: &IdentifierPolicy,
) -> Result<Actor, Violation> {
    let invalid = |path: &str, problem: String| Violation::ActorInvalid {
        path: format!("actor/{path}"),
        problem,
    };
    if input.id_root == ROOT_HSA_ID {
        let hsa_id = input.id_extension.as_deref().unwrap_or("");
        check_hsa_id(hsa_id)
            .map_err(|p| invalid("id/extension", format!("professional HSA-id {p}")))?;
        let IdInput {
            root: org_root,
            extension: org_ext,
        } = input
            .organization
            .as_ref()
            .ok_or_else(|| invalid("professional", "a professional actor must name the care organisation in professional/organizationId".into()))?;
        let org_ext = org_ext
            .as_deref()
            .filter(|e| !e.trim().is_empty())
            .ok_or_else(|| {
                invalid(
                    "professional/organizationId/extension",
                    "is missing or empty".into(),
                )
            })?;
        if org_root.trim().is_empty() {
            return Err(invalid(
                "professional/organizationId/root",
                "is empty".into(),
            ));
        }
        if org_root == ROOT_HSA_ID {
            check_hsa_id(org_ext).map_err(|p| {
                invalid(
                    "professional/organizationId/extension",
                    format!("organisation HSA-id {p}"),
                )
            })?;
        }
        return Ok(Actor::Professional {
            hsa_id: hsa_id.to_owned(),
            organization_root: org_root.clone(),
            organization_id: org_ext.to_owned(),
        });
    }
    let person = policy.parse(&input.id_root, input.id_extension.as_deref()).map_err(|p| {
        invalid("id", format!("must be the person themself (personnummer or samordningsnummer) or a professional's HSA-id (root {ROOT_HSA_ID}): {p}"))
    })?;
    if input.organization.is_some() {
        return Err(invalid(
            "professional",
            "is only for a professional actor (root {ROOT_HSA_ID}); a private person acts for themself".replace("{ROOT_HSA_ID}", ROOT_HSA_ID),
        ));
    }
    if &person != subject {
        return Err(invalid("id", "is a different private person than the one updated; a private person may only enter their own contact information".into()));
    }
    Ok(Actor::Person(person))
}

/// An HSA-id: `SE`, a 10- or 12-digit organisation number, `-`, and an alphanumeric suffix; at most 31 characters.
fn check_hsa_id(s: &str) -> Result<(), &'static str> {
    let shape_ok = s
        .strip_prefix("SE")
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(org, suffix)| {
            matches!(org.len(), 10 | 12)
                && org.bytes().all(|b| b.is_ascii_digit())
                && !suffix.is_empty()
                && suffix.bytes().all(|b| b.is_ascii_alphanumeric())
        });
    if s.is_empty() {
        Err("is missing")
    } else if s.len() > 31 || !shape_ok {
        Err("must look like SE2321000016-ABC1 (SE, organisation number, '-', suffix; at most 31 characters)")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::identifier::ROOT_PERSONNUMMER;

    fn subject() -> PersonId {
        PersonId::Personnummer("191212121212".into())
    }

    fn person_actor(n: &str) -> ActorInput {
        ActorInput {
            id_root: ROOT_PERSONNUMMER.into(),
            id_extension: Some(n.into()),
            organization: None,
        }
    }

    fn professional(hsa: &str, org: Option<&str>) -> ActorInput {
        ActorInput {
            id_root: ROOT_HSA_ID.into(),
            id_extension: Some(hsa.into()),
            organization: org.map(|o| IdInput {
                root: ROOT_HSA_ID.to_owned(),
                extension: Some(o.to_owned()),
            }),
        }
    }

    #[test]
    fn co1_the_person_themself_or_a_professional_with_organisation_may_act() {
        let p = IdentifierPolicy::default();
        assert_eq!(
            validate_actor(&person_actor("191212121212"), &subject(), &p),
            Ok(Actor::Person(subject()))
        );
        assert!(validate_actor(
            &professional("SE2321000016-1234", Some("SE2321000016-0001")),
            &subject(),
            &p
        )
        .is_ok());
    }

    #[test]
    fn co1_another_private_person_or_a_malformed_actor_is_rejected() {
        let p = IdentifierPolicy::default();
        let other = validate_actor(&person_actor("200001012384"), &subject(), &p);
        assert!(
            matches!(other, Err(Violation::ActorInvalid { .. })),
            "{other:?}"
        );
        assert!(other
            .unwrap_err()
            .to_string()
            .contains("different private person"));
        for bad in [
            professional("SE2321000016-1234", None),
            professional("nope", Some("SE2321000016-0001")),
            professional("", Some("SE2321000016-0001")),
        ] {
            let e = validate_actor(&bad, &subject(), &p).unwrap_err();
            assert_eq!(e.rule(), "CO-1", "{e}");
        }
        let e = validate_actor(
            &ActorInput {
                id_root: "1.2.3".into(),
                id_extension: Some("x".into()),
                organization: None,
            },
            &subject(),
            &p,
        )
        .unwrap_err();
        assert_eq!(e.code(), crate::domain::ErrorCode::ActorInvalid);
        let mut with_org = person_actor("191212121212");
        with_org.organization = Some(IdInput {
            root: ROOT_HSA_ID.into(),
            extension: Some("SE2321000016-0001".into()),
        });
        assert_eq!(
            validate_actor(&with_org, &subject(), &p)
                .unwrap_err()
                .rule(),
            "CO-1"
        );
    }
}
