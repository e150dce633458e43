//! The test-control reset: a whole population file, taken in pieces, checked line by line,
//! then stored as one replacement, or nothing stored when any line is bad.

use super::batch::write_batch;
use super::line::{parse_accepted, Accepted};
use super::{ImportSummary, LineError};
use crate::domain::IdentifierPolicy;
use crate::store::{PersonStore, StoreError};

/// Replaces the whole population with `text` (the test-control reset): every line is
/// checked first, and a file with any bad line changes nothing. The replacement is one
/// transaction: requests served meanwhile see the old population or the new one, and a
/// store failure leaves the old one.
pub fn reset(
    text: &str,
    store: &dyn PersonStore,
    policy: &IdentifierPolicy,
) -> Result<Result<ImportSummary, Vec<(u64, LineError)>>, StoreError> {
    let mut file = ResetFile::new(policy.clone());
    file.feed(text.as_bytes());
    file.replace(store)
}

/// A population file for [`reset`] taken in pieces as they arrive (`/control/reset` streams
/// its body here): each line is checked as soon as it is complete, and nothing is stored
/// before [`ResetFile::replace`].
pub struct ResetFile {
    policy: IdentifierPolicy,
    /// The start of a line whose end has not arrived yet (a piece may end anywhere, even
    /// inside a character).
    partial: Vec<u8>,
    lines: u64,
    accepted: Vec<Accepted>,
    bad: Vec<(u64, LineError)>,
}

impl ResetFile {
    /// An empty file, its identifiers read by `policy`.
    pub fn new(policy: IdentifierPolicy) -> Self {
        ResetFile {
            policy,
            partial: Vec::new(),
            lines: 0,
            accepted: Vec::new(),
            bad: Vec::new(),
        }
    }

    /// The next piece of the file.
    pub fn feed(&mut self, mut piece: &[u8]) {
        while let Some(end) = piece.iter().position(|&b| b == b'\n') {
            let (head, rest) = (&piece[..end], &piece[end + 1..]);
            if self.partial.is_empty() {
                self.ended_line(head);
            } else {
                let mut whole = std::mem::take(&mut self.partial);
                whole.extend_from_slice(head);
                self.ended_line(&whole);
            }
            piece = rest;
        }
        self.partial.extend_from_slice(piece);
    }

    /// A line that had its "\n" (as `str::lines`: "\r\n" ends a line too).
    fn ended_line(&mut self, bytes: &[u8]) {
        self.line(bytes.strip_suffix(b"\r").unwrap_or(bytes));
    }

    fn line(&mut self, bytes: &[u8]) {
        self.lines += 1;
        let parsed = match std::str::from_utf8(bytes) {
            Ok(text) if text.trim().is_empty() => return,
            Ok(text) => parse_accepted(text, &self.policy),
            // As the CLI import reports a line that is not UTF-8.
            Err(e) => Err(LineError::Unreadable(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                e,
            ))),
        };
        match parsed {
            Ok(a) => self.accepted.push(a),
            Err(reason) => self.bad.push((self.lines, reason)),
        }
    }

    /// Replaces the whole population with the file, as [`reset`] does; the bad lines
    /// instead, if there are any.
    pub fn replace(
        mut self,
        store: &dyn PersonStore,
    ) -> Result<Result<ImportSummary, Vec<(u64, LineError)>>, StoreError> {
        // The last line may have no line end.
        if !self.partial.is_empty() {
            let last = std::mem::take(&mut self.partial);
            self.line(&last);
        }
        if !self.bad.is_empty() {
            return Ok(Err(self.bad));
        }
        store_population(self.accepted, store).map(Ok)
    }
}

/// Replaces the population with `accepted` and seeds their contact information, in one
/// transaction.
fn store_population(
    accepted: Vec<Accepted>,
    store: &dyn PersonStore,
) -> Result<ImportSummary, StoreError> {
    let replaced = write_batch(accepted, |persons, seeds| {
        store.replace_population(persons, seeds)
    })?;
    let mut summary = ImportSummary::default();
    summary.add(replaced);
    Ok(summary)
}
