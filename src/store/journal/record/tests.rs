use super::*;
use crate::store::journal::test_support::entry;
use crate::store::journal::SEGMENT_BYTES;
use std::io::BufReader;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Every record above `above` and how the records end.
fn decode_records(
    bytes: &[u8],
    path: &Path,
    above: u64,
) -> Result<(Vec<(u64, AuditEntry)>, Tail), RecordError> {
    let mut out = Vec::new();
    let tail = read_records(bytes, path, above, |seq, e| {
        out.push((seq, e));
        Ok(())
    })?;
    Ok((out, tail))
}

/// Counts the bytes read through it.
struct Counted<R>(R, Arc<AtomicUsize>);

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.read(buf)?;
        self.1.fetch_add(n, Ordering::Relaxed);
        Ok(n)
    }
}

// A segment is 64 MiB preallocated, its records at the front: reading them must not
// read (or hold) the zeros behind them.
#[test]
fn records_are_read_up_to_the_zeros_not_the_whole_segment() {
    let mut buf = Vec::new();
    (1..=100).for_each(|n| encode_record(&mut buf, n as u64, &entry(n)));
    let zeros = std::io::repeat(0).take(SEGMENT_BYTES);
    let read = Arc::new(AtomicUsize::new(0));
    let from = BufReader::new(Counted((&buf[..]).chain(zeros), read.clone()));
    let mut seen = 0;
    let tail = read_records::<RecordError>(from, Path::new("x"), 0, |_, _| {
        seen += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!((seen, tail), (100, Tail::Clean));
    assert!(
        read.load(Ordering::Relaxed) <= buf.len() + 16 * 1024,
        "read {} bytes for {} bytes of records",
        read.load(Ordering::Relaxed),
        buf.len()
    );
}

#[test]
fn entries_read_back_exactly_as_written() {
    let mut e = entry(1).with_outcome(
        Outcome::Fault,
        Some(AuditCode::Fault(crate::audit::FaultKind::Timeout)),
        Some("log-1".into()),
    );
    e.unrestricted = true;
    // Times are kept to the microsecond, as the index stores them.
    e.at = DateTime::from_timestamp_micros(e.at.timestamp_micros()).unwrap();
    let mut plain = entry(2);
    plain.at = e.at;
    let mut buf = Vec::new();
    encode_record(&mut buf, 42, &e);
    encode_record(&mut buf, 43, &plain);
    let (back, tail) = decode_records(&buf, Path::new("x"), 0).unwrap();
    assert_eq!(back, vec![(42, e), (43, plain.clone())]);
    assert_eq!(tail, Tail::Clean);
    // Above a mark: only the records after it.
    let (back, _) = decode_records(&buf, Path::new("x"), 42).unwrap();
    assert_eq!(back, vec![(43, plain)]);
}

// A crash mid-write leaves a torn tail: replay keeps every whole record and stops there.
#[test]
fn a_torn_tail_ends_the_records_and_keeps_those_before_it() {
    let mut buf = Vec::new();
    encode_record(&mut buf, 1, &entry(1));
    let whole = buf.len();
    encode_record(&mut buf, 2, &entry(2));
    buf[whole + HEADER + 3] ^= 0xff;
    buf.extend_from_slice(&[0; 64]);
    let (back, tail) = decode_records(&buf, Path::new("x"), 0).unwrap();
    assert_eq!(back.iter().map(|r| r.0).collect::<Vec<_>>(), vec![1]);
    assert_eq!(tail, Tail::Torn);
}

/// A record whose checksum holds over `payload`, as a writer of another version would make it.
fn record_with_payload(seq: u64, payload: &[u8]) -> Vec<u8> {
    let mut crc = crc32fast::Hasher::new();
    crc.update(&seq.to_le_bytes());
    crc.update(payload);
    let mut buf = Vec::new();
    buf.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_le_bytes());
    buf.extend_from_slice(&crc.finalize().to_le_bytes());
    buf.extend_from_slice(&seq.to_le_bytes());
    buf.extend_from_slice(payload);
    buf
}

// An intact record this version cannot decode is an error that says where and what, not a
// torn tail to stop at quietly: its data would be lost.
#[test]
fn an_intact_record_that_does_not_decode_names_its_offset_and_field() {
    let mut buf = Vec::new();
    encode_record(&mut buf, 1, &entry(1));
    let second_at = buf.len() as u64;
    let mut payload = Vec::new();
    encode_entry(&mut payload, &entry(2));
    payload.push(7);
    buf.extend(record_with_payload(2, &payload));
    let err = decode_records(&buf, Path::new("seg"), 0).unwrap_err();
    assert!(
        matches!(
            err,
            RecordError::Undecodable { offset, reason: DecodeError::Trailing(1), .. } if offset == second_at
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains(&format!("seg at byte {second_at}")),
        "{err}"
    );

    // A contract name this version does not know.
    let mut payload = Vec::new();
    payload.extend_from_slice(&0i64.to_le_bytes());
    put_str(&mut payload, "SE-C");
    put_str(&mut payload, "NoSuchContract");
    let err = decode_records(&record_with_payload(1, &payload), Path::new("seg"), 0).unwrap_err();
    assert!(
        matches!(
            err,
            RecordError::Undecodable {
                reason: DecodeError::Unknown(Field::Contract),
                ..
            }
        ),
        "{err:?}"
    );
}
