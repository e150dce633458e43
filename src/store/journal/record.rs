//! The record format: `len: u32 | crc32(seq ‖ payload): u32 | seq: u64 | payload`,
//! little-endian; a zero length ends a segment's records (the rest of a preallocated file is
//! zeros), and a record whose checksum fails is a torn write at the tail: reading stops there.

use crate::audit::{AuditCode, AuditEntry, Outcome, Source};
use chrono::{DateTime, Utc};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Why a segment's records could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file system refused the read.
    #[error("audit journal {}: {source}", path.display())]
    Read {
        /// The segment file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A record whose checksum holds but whose payload this version cannot decode.
    #[error("audit journal {} at byte {offset}: a record with a valid checksum that this version cannot read", path.display())]
    Undecodable {
        /// The segment file.
        path: PathBuf,
        /// Where the record starts.
        offset: u64,
        /// What in the payload did not decode.
        #[source]
        reason: DecodeError,
    },
}

/// What in a record's payload did not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The payload ends inside a field.
    #[error("the payload ends inside its {0}")]
    Truncated(Field),
    /// A text field is not UTF-8.
    #[error("its {0} is not UTF-8")]
    NotUtf8(Field),
    /// The time is outside what a timestamp can hold.
    #[error("its time is out of range")]
    TimeOutOfRange,
    /// A field holds a name this version does not know.
    #[error("its {0} names a value this version does not know")]
    Unknown(Field),
    /// An optional field's tag is neither absent (0) nor present (1).
    #[error("its {field} has tag {tag}, neither 0 nor 1")]
    BadTag {
        /// The optional field whose tag is wrong.
        field: Field,
        /// The tag byte as read.
        tag: u8,
    },
    /// Bytes follow the last field.
    #[error("{0} bytes follow its last field")]
    Trailing(usize),
}

/// A field of an encoded audit entry, in the order `encode_entry` writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `at`, microseconds since the epoch.
    Time,
    /// `consumer`.
    Consumer,
    /// The contract or other source.
    Contract,
    /// Whether the call was unrestricted.
    Unrestricted,
    /// `logical_address`.
    LogicalAddress,
    /// `correlation_id`.
    CorrelationId,
    /// `person`, the key `root:extension`.
    Person,
    /// `outcome`, one tag byte.
    Outcome,
    /// `error_code`, optional.
    ErrorCode,
    /// `log_id`, optional.
    LogId,
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Field::Time => "time",
            Field::Consumer => "consumer",
            Field::Contract => "contract",
            Field::Unrestricted => "unrestricted flag",
            Field::LogicalAddress => "logical address",
            Field::CorrelationId => "correlation id",
            Field::Person => "person",
            Field::Outcome => "outcome",
            Field::ErrorCode => "error code",
            Field::LogId => "log id",
        })
    }
}

pub(super) const HEADER: usize = 16;

pub(super) fn encode_record(buf: &mut Vec<u8>, seq: u64, entry: &AuditEntry) {
    let start = buf.len();
    buf.extend_from_slice(&[0; HEADER]);
    encode_entry(buf, entry);
    let len = u32::try_from(buf.len() - start - HEADER).unwrap_or(u32::MAX);
    let mut crc = crc32fast::Hasher::new();
    crc.update(&seq.to_le_bytes());
    crc.update(&buf[start + HEADER..]);
    buf[start..start + 4].copy_from_slice(&len.to_le_bytes());
    buf[start + 4..start + 8].copy_from_slice(&crc.finalize().to_le_bytes());
    buf[start + 8..start + 16].copy_from_slice(&seq.to_le_bytes());
}

/// How a segment's records ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tail {
    /// At zeros or the end of the file.
    Clean,
    /// At a record whose checksum failed, followed only by zeros: a write torn by a crash.
    Torn,
    /// At a record whose checksum failed, with data after it: damage, not a torn write.
    DataAfterDamage,
}

/// Reads a segment's records in order, hands each intact one with a sequence above `above`
/// to `each`, and says how the segment ends. It streams, one record in memory at a time: a
/// preallocated segment is 64 MiB, mostly zeros, and reading it whole (as a replay at start
/// and an indexer catching up did) put its size on the heap. Records at or below `above`
/// are checked, not decoded.
/// `each` may fail with its own error `E`, which a record error converts into.
pub(super) fn read_records<E: From<RecordError>>(
    mut from: impl Read,
    path: &Path,
    above: u64,
    mut each: impl FnMut(u64, AuditEntry) -> Result<(), E>,
) -> Result<Tail, E> {
    let io = |source| RecordError::Read {
        path: path.to_owned(),
        source,
    };
    let mut header = [0; HEADER];
    let mut payload = Vec::new();
    let mut at = 0u64;
    while read_whole(&mut from, &mut header).map_err(io)? {
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let mut seq = [0; 8];
        seq.copy_from_slice(&header[8..16]);
        if len == 0 {
            break;
        }
        payload.clear();
        // `take` reads what is there: a damaged length never allocates more than the file.
        let got = (&mut from)
            .take(u64::from(len))
            .read_to_end(&mut payload)
            .map_err(io)?;
        let intact = got == len as usize && {
            let mut check = crc32fast::Hasher::new();
            check.update(&seq);
            check.update(&payload);
            check.finalize() == crc
        };
        if !intact {
            let tail = if any_data_left(&mut from).map_err(io)? {
                Tail::DataAfterDamage
            } else {
                Tail::Torn
            };
            tracing::warn!(segment = %path.display(), offset = at, ?tail, "audit journal: a record whose checksum fails; reading stops there");
            return Ok(tail);
        }
        let (seq, start) = (u64::from_le_bytes(seq), at);
        at += (HEADER + payload.len()) as u64;
        if seq <= above {
            continue;
        }
        let entry = decode_entry(&payload).map_err(|reason| RecordError::Undecodable {
            path: path.to_owned(),
            offset: start,
            reason,
        })?;
        each(seq, entry)?;
    }
    Ok(Tail::Clean)
}

/// Fills `buf`; `false` at the end of the input (a partial header there ends the records,
/// as zeros do).
fn read_whole(from: &mut impl Read, buf: &mut [u8]) -> std::io::Result<bool> {
    match from.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether anything but zeros follows.
fn any_data_left(from: &mut impl Read) -> std::io::Result<bool> {
    let mut chunk = [0; 8192];
    loop {
        match from.read(&mut chunk)? {
            0 => return Ok(false),
            n if chunk[..n].iter().any(|b| *b != 0) => return Ok(true),
            _ => {}
        }
    }
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_le_bytes());
    buf.extend_from_slice(s.as_bytes());
}

fn put_opt(buf: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => buf.push(0),
        Some(s) => {
            buf.push(1);
            put_str(buf, s);
        }
    }
}

fn encode_entry(buf: &mut Vec<u8>, e: &AuditEntry) {
    buf.extend_from_slice(&e.at.timestamp_micros().to_le_bytes());
    put_str(buf, &e.consumer);
    put_str(buf, e.contract.as_str());
    buf.push(u8::from(e.unrestricted));
    put_str(buf, &e.logical_address);
    put_str(buf, &e.correlation_id);
    put_str(buf, &e.person);
    put_str(buf, e.outcome.as_str());
    put_opt(buf, e.error_code.map(AuditCode::as_str));
    put_opt(buf, e.log_id.as_deref());
}

/// Reads fields in the order `encode_entry` wrote them.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize, field: Field) -> Result<&'a [u8], DecodeError> {
        if n > self.0.len() {
            return Err(DecodeError::Truncated(field));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self, field: Field) -> Result<u8, DecodeError> {
        Ok(self.take(1, field)?[0])
    }

    fn i64(&mut self, field: Field) -> Result<i64, DecodeError> {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(self.take(8, field)?);
        Ok(i64::from_le_bytes(bytes))
    }

    fn str(&mut self, field: Field) -> Result<&'a str, DecodeError> {
        let mut len = [0; 4];
        len.copy_from_slice(self.take(4, field)?);
        let bytes = self.take(u32::from_le_bytes(len) as usize, field)?;
        std::str::from_utf8(bytes).map_err(|_| DecodeError::NotUtf8(field))
    }

    fn opt(&mut self, field: Field) -> Result<Option<&'a str>, DecodeError> {
        match self.u8(field)? {
            0 => Ok(None),
            1 => self.str(field).map(Some),
            tag => Err(DecodeError::BadTag { field, tag }),
        }
    }

    /// A text field naming one of a fixed set of values, parsed by `parse`.
    fn named<T>(
        &mut self,
        field: Field,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, DecodeError> {
        parse(self.str(field)?).ok_or(DecodeError::Unknown(field))
    }
}

fn decode_entry(payload: &[u8]) -> Result<AuditEntry, DecodeError> {
    let mut f = Fields(payload);
    let at: DateTime<Utc> =
        DateTime::from_timestamp_micros(f.i64(Field::Time)?).ok_or(DecodeError::TimeOutOfRange)?;
    let consumer = f.str(Field::Consumer)?.to_owned();
    let contract = f.named(Field::Contract, Source::parse)?;
    let unrestricted = f.u8(Field::Unrestricted)? != 0;
    let logical_address = f.str(Field::LogicalAddress)?.to_owned();
    let correlation_id = f.str(Field::CorrelationId)?.to_owned();
    let person = f.str(Field::Person)?.to_owned();
    let outcome = f.named(Field::Outcome, Outcome::parse)?;
    let error_code = match f.opt(Field::ErrorCode)? {
        Some(code) => Some(AuditCode::parse(code).ok_or(DecodeError::Unknown(Field::ErrorCode))?),
        None => None,
    };
    let log_id = f.opt(Field::LogId)?.map(str::to_owned);
    if !f.0.is_empty() {
        return Err(DecodeError::Trailing(f.0.len()));
    }
    Ok(AuditEntry {
        at,
        consumer,
        contract,
        unrestricted,
        logical_address,
        correlation_id,
        person,
        outcome,
        error_code,
        log_id,
    })
}

#[cfg(test)]
mod tests;
