//! `/control/reset`: a population file streamed into a blocking task that checks each line
//! as it completes, within a size limit, and replaces the population only when all is well.

use super::{json, text, Admin, Resp};
use crate::domain::IdentifierPolicy;
use crate::import::{ImportSummary, LineError, ResetFile};
use crate::store::{PersonStore, StoreError};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Body;
use hyper::StatusCode;
use std::sync::Arc;

#[cfg(test)]
mod tests;

/// Largest population file `/control/reset` takes (README, "For test suites and staging"):
/// 256 MiB, about a million persons. Every line read is held until the file is complete,
/// since a file with a bad line must change nothing.
const MAX_RESET_BYTES: usize = 256 * 1024 * 1024;

/// Body frames on their way to the reset's blocking task; beyond them the sender waits,
/// so a fast client cannot pile up more than this much unread body.
const RESET_FRAMES_IN_FLIGHT: usize = 8;

/// Replaces the population with the posted JSON Lines; a file with a bad line, or over
/// [`MAX_RESET_BYTES`], changes nothing.
pub(super) async fn reset<B>(admin: &Admin, body: B) -> Resp
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let outcome = stream_reset(
        body,
        MAX_RESET_BYTES,
        admin.store.clone(),
        admin.policy.clone(),
    )
    .await;
    match outcome {
        Ok(Ok(summary)) => json(
            StatusCode::OK,
            &serde_json::json!({"inserted": summary.inserted, "contactsSeeded": summary.contacts_seeded}),
        ),
        Ok(Err(bad)) => {
            let lines: Vec<serde_json::Value> = bad
                .iter()
                .map(|(n, r)| serde_json::json!({"line": n, "reason": r.to_string()}))
                .collect();
            json(
                StatusCode::BAD_REQUEST,
                &serde_json::json!({"error": "the population file has bad lines; nothing was changed", "lines": lines}),
            )
        }
        Err(e) => text(e.status(), format!("{e}\n")),
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a reset changed nothing, short of bad lines.
#[derive(Debug, thiserror::Error)]
enum ResetError {
    /// More than the limit, declared or sent.
    #[error("the population file is over {} ({limit} bytes), the most /control/reset takes; nothing was changed", mebibytes(*.limit))]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body broke off or was malformed.
    #[error("the body could not be read: {0}; nothing was changed")]
    Unreadable(#[source] BoxError),
    /// The store failed: the old population stays.
    #[error("the store failed: {0}")]
    Store(#[source] StoreError),
    /// The blocking task that checks the lines ended without an answer.
    #[error("reset failed: {0}")]
    Task(#[source] tokio::task::JoinError),
}

impl ResetError {
    fn status(&self) -> StatusCode {
        match self {
            ResetError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ResetError::Unreadable(_) => StatusCode::BAD_REQUEST,
            ResetError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            ResetError::Task(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// `limit` for people: "256 MiB", or the bytes when it is not whole mebibytes.
fn mebibytes(limit: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if limit.is_multiple_of(MIB) {
        format!("{} MiB", limit / MIB)
    } else {
        format!("{limit} bytes")
    }
}

/// The reset's whole file or its bad lines.
type Replaced = Result<ImportSummary, Vec<(u64, LineError)>>;

/// Reads `body` frame by frame into a blocking task that checks each line as it completes
/// and replaces the population once the body has ended well. Past `limit` (declared by
/// Content-Length, or counted) reading stops and the task drops what it read unstored.
async fn stream_reset<B>(
    body: B,
    limit: usize,
    store: Arc<dyn PersonStore>,
    policy: IdentifierPolicy,
) -> Result<Replaced, ResetError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    // A declared length over the limit is refused before a byte of the body is read.
    if body.size_hint().lower() > limit as u64 {
        return Err(ResetError::TooLarge { limit });
    }
    let (pieces, received) = tokio::sync::mpsc::channel(RESET_FRAMES_IN_FLIGHT);
    let task =
        tokio::task::spawn_blocking(move || check_then_replace(received, policy, store.as_ref()));
    let read = forward_frames(body, limit, &pieces).await;
    // Dropped before the task is awaited: without an end mark, the task stores nothing.
    drop(pieces);
    let outcome = task.await.map_err(ResetError::Task)?;
    read?;
    match outcome {
        Some(replaced) => replaced.map_err(ResetError::Store),
        // The task saw no end mark although reading went well: it can only have stopped early.
        None => Err(ResetError::Unreadable("the body ended early".into())),
    }
}

/// A piece of the body, or `None`: the body ended well and may be stored.
type Piece = Option<Bytes>;

/// Sends the body's data frames on, counting them against `limit`, then the end mark.
async fn forward_frames<B>(
    body: B,
    limit: usize,
    pieces: &tokio::sync::mpsc::Sender<Piece>,
) -> Result<(), ResetError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let mut body = std::pin::pin!(body);
    let mut read = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ResetError::Unreadable(e.into()))?;
        // Trailers carry no lines.
        let Ok(data) = frame.into_data() else {
            continue;
        };
        read = read.saturating_add(data.len());
        if read > limit {
            return Err(ResetError::TooLarge { limit });
        }
        if pieces.send(Some(data)).await.is_err() {
            // The task has stopped; awaiting it tells why.
            return Ok(());
        }
    }
    let _ = pieces.send(None).await;
    Ok(())
}

/// The blocking side of [`stream_reset`]: `None` when the pieces stop without an end mark.
fn check_then_replace(
    mut pieces: tokio::sync::mpsc::Receiver<Piece>,
    policy: IdentifierPolicy,
    store: &dyn PersonStore,
) -> Option<Result<Replaced, StoreError>> {
    let mut file = ResetFile::new(policy);
    while let Some(piece) = pieces.blocking_recv() {
        match piece {
            Some(data) => file.feed(&data),
            None => return Some(file.replace(store)),
        }
    }
    None
}
