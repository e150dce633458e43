//! The record format: `len: u32 | crc32(seq ‖ payload): u32 | seq: u64 | payload`,
//! little-endian; a zero length ends a segment's records (the rest of a preallocated file is
//! zeros), and a record whose checksum fails is a torn write at the tail: reading stops there.

use crate::audit::{AuditCode, AuditEntry, Outcome, Source};
use crate::store::StoreError;
use chrono::{DateTime, Utc};
use std::io::Read;
use std::path::Path;

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
pub(super) fn read_records(
    mut from: impl Read,
    path: &Path,
    above: u64,
    mut each: impl FnMut(u64, AuditEntry) -> Result<(), StoreError>,
) -> Result<Tail, StoreError> {
    let io = |source| StoreError::Journal {
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
        let entry = decode_entry(&payload).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "audit journal {} at byte {start}: a record with a valid checksum that this version cannot read",
                path.display()
            ))
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
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn i64(&mut self) -> Option<i64> {
        self.take(8)?.try_into().ok().map(i64::from_le_bytes)
    }

    fn str(&mut self) -> Option<&'a str> {
        let len = u32::from_le_bytes(self.take(4)?.try_into().ok()?) as usize;
        std::str::from_utf8(self.take(len)?).ok()
    }

    fn opt(&mut self) -> Option<Option<&'a str>> {
        match self.u8()? {
            0 => Some(None),
            1 => self.str().map(Some),
            _ => None,
        }
    }
}

fn decode_entry(payload: &[u8]) -> Option<AuditEntry> {
    let mut f = Fields(payload);
    let at: DateTime<Utc> = DateTime::from_timestamp_micros(f.i64()?)?;
    let consumer = f.str()?.to_owned();
    let contract = Source::parse(f.str()?)?;
    let unrestricted = f.u8()? != 0;
    let logical_address = f.str()?.to_owned();
    let correlation_id = f.str()?.to_owned();
    let person = f.str()?.to_owned();
    let outcome = Outcome::parse(f.str()?)?;
    let error_code = match f.opt()? {
        Some(code) => Some(AuditCode::parse(code)?),
        None => None,
    };
    let log_id = f.opt()?.map(str::to_owned);
    f.0.is_empty().then_some(AuditEntry {
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
