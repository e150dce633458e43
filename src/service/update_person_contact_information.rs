//! UpdatePersonContactInformation(Unrestricted): validate, decide and store in one
//! transaction with its audit entry; a refusal changes nothing.

use super::error::result_for_violation;
use super::{Context, Handled, RequestResult, ServiceError};
use crate::audit::AuditEntry;
use crate::contracts::types::{ContactRecordView, ResultXml};
use crate::contracts::update_person_contact_information::{decode, encode};
use crate::contracts::Contract;
use crate::domain::update::{apply_update, validate_update};
use crate::domain::{Access, ContactRecord, Person, UpdateAccess, Violation};
use crate::store::{ContactUpdate, StoreError};
use crate::xml::Element;
use uuid::Uuid;

pub(super) fn handle(ctx: &Context<'_>, body: &Element) -> Result<Handled, ServiceError> {
    let contract = ctx.call.contract;
    let input = decode(body, contract)?;
    let log_id = Uuid::new_v4();
    let mut audit = ctx.audit(format!(
        "{}:{}",
        input.person.root,
        input.person.extension.as_deref().unwrap_or("")
    ));
    audit.log_id = Some(log_id.to_string());
    let validated = match validate_update(&input, &ctx.config.identifiers) {
        Ok(v) => v,
        Err(violation) => {
            let entry = audit.decided(Some(&violation));
            return Ok(refused(contract, &violation, log_id, vec![entry]));
        }
    };
    let access = UpdateAccess {
        access: contract.access().unwrap_or(Access::Restricted),
        unrestricted_may_update_protected: ctx.config.unrestricted_may_update_protected,
    };
    let consumer = ctx.call.consumer.as_deref().unwrap_or_default();
    let now = chrono::Utc::now();
    let person_id = validated.person.clone();
    let decide = |person: Option<&Person>, stored: Option<&ContactRecord>| {
        apply_update(validated.clone(), person, stored, access, consumer, now)
    };
    match ctx.stores.persons.update_contacts(ContactUpdate {
        id: &person_id,
        decide: &decide,
        audit: &audit,
    })? {
        Ok(state) => {
            let record = state
                .contacts
                .as_ref()
                .ok_or(StoreError::Invariant("an accepted update stored no record"))?;
            let view = ContactRecordView {
                person: &state.person,
                record,
                show_contacts: true,
            };
            Ok(Handled {
                payload: encode(contract, &ResultXml::Ok, Some(view)),
                audit: vec![],
                result: RequestResult::Ok,
            })
        }
        Err(violation) => Ok(refused(contract, &violation, log_id, vec![])),
    }
}

/// The ERROR answer for a rule violation; logged with its log id, code and rule, never the values.
fn refused(
    contract: Contract,
    violation: &Violation,
    log_id: Uuid,
    audit: Vec<AuditEntry>,
) -> Handled {
    tracing::info!(%log_id, error_code = violation.code().as_str(), rule = violation.rule().as_str(), "update refused");
    Handled {
        payload: encode(contract, &result_for_violation(violation, log_id), None),
        audit,
        result: RequestResult::Error,
    }
}
