//! PingForConfiguration: version, time, store kind and whether the store answers.

use super::{Context, Handled, RequestResult, ServiceError};
use crate::contracts::ping_for_configuration::{decode, encode};
use crate::domain::Version;
use crate::xml::Element;

pub(super) fn handle(ctx: &Context<'_>, body: &Element) -> Result<Handled, ServiceError> {
    decode(body)?;
    let store = &ctx.stores.persons;
    let now = Version::at(chrono::Utc::now()).to_string();
    let configuration = [
        ("adapterVersion", env!("CARGO_PKG_VERSION").to_owned()),
        ("store", store.kind().as_str().to_owned()),
        ("storeAvailable", store.ping().is_ok().to_string()),
    ];
    Ok(Handled {
        payload: encode(env!("CARGO_PKG_VERSION"), &now, &configuration),
        audit: vec![],
        result: RequestResult::Ok,
    })
}
