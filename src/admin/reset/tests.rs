//! The reset's streaming, probed with bodies cut into frames anywhere: its limit stops the
//! reading where it is passed, and a file in pieces reads as the whole file.

use super::*;
use crate::store::sqlite::SqliteStore;
use http_body_util::Full;
use hyper::body::Frame;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

/// A body of these frames with no declared length (as a chunked one), counting how many
/// were taken from it.
struct Frames {
    left: VecDeque<Bytes>,
    taken: Arc<AtomicUsize>,
}

impl Frames {
    fn of(pieces: &[&[u8]]) -> (Self, Arc<AtomicUsize>) {
        let taken = Arc::new(AtomicUsize::new(0));
        let left = pieces.iter().map(|p| Bytes::copy_from_slice(p)).collect();
        (
            Frames {
                left,
                taken: taken.clone(),
            },
            taken,
        )
    }
}

impl Body for Frames {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let next = self.left.pop_front();
        if next.is_some() {
            self.taken.fetch_add(1, Ordering::SeqCst);
        }
        Poll::Ready(next.map(|data| Ok(Frame::data(data))))
    }
}

const TOLVAN: &str =
    "{\"personId\":\"191212121212\",\"givenName\":\"Tolvan\",\"surname\":\"Tolvansson\"}\n";
const HANNA: &str =
    "{\"personId\":\"199002026780\",\"givenName\":\"H\u{e5}nna\",\"surname\":\"Holm\"}\n";

/// A store holding Tolvan only.
fn store_with_tolvan() -> (tempfile::TempDir, Arc<dyn PersonStore>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("reset.db")).expect("store");
    crate::import::reset(TOLVAN, &store, &IdentifierPolicy::default())
        .expect("store")
        .expect("a good line");
    (dir, Arc::new(store))
}

fn persons(store: &Arc<dyn PersonStore>) -> u64 {
    store.count_persons().expect("count")
}

#[tokio::test]
async fn a_reset_over_its_limit_stops_reading_there_and_stores_nothing() {
    let (_dir, store) = store_with_tolvan();
    let hanna = HANNA.as_bytes();
    // Three frames reach past 2.5 lines; the two after them are never taken.
    let (body, taken) = Frames::of(&[hanna, hanna, hanna, hanna, hanna]);
    let limit = hanna.len() * 5 / 2;
    let refused = stream_reset(body, limit, store.clone(), IdentifierPolicy::default()).await;
    assert!(
        matches!(refused, Err(ResetError::TooLarge { limit: l }) if l == limit),
        "{refused:?}"
    );
    assert_eq!(taken.load(Ordering::SeqCst), 3);
    assert_eq!(persons(&store), 1, "Tolvan is still the population");
    // A declared length over the limit: refused before a frame is taken.
    let declared = Full::new(Bytes::from(HANNA.repeat(3)));
    let refused = stream_reset(declared, limit, store.clone(), IdentifierPolicy::default()).await;
    assert!(
        matches!(refused, Err(ResetError::TooLarge { .. })),
        "{refused:?}"
    );
    let message = ResetError::TooLarge {
        limit: MAX_RESET_BYTES,
    }
    .to_string();
    assert!(
        message.contains("256 MiB") && message.contains("nothing was changed"),
        "{message}"
    );
}

#[tokio::test]
async fn a_reset_in_frames_cut_anywhere_reads_as_the_whole_file() {
    let (_dir, store) = store_with_tolvan();
    let file = format!("{}\r\n{}", HANNA.trim_end(), TOLVAN.trim_end());
    let bytes = file.as_bytes();
    // Cuts inside the first line, inside its 'å' (two bytes), and between '\r' and '\n'.
    let in_a = bytes.iter().position(|&b| b == 0xc3).expect("the 'å'") + 1;
    let crlf = HANNA.trim_end().len() + 1;
    let (body, _) = Frames::of(&[
        &bytes[..10],
        &bytes[10..in_a],
        &bytes[in_a..crlf],
        &bytes[crlf..],
    ]);
    let replaced = stream_reset(
        body,
        bytes.len(),
        store.clone(),
        IdentifierPolicy::default(),
    )
    .await
    .expect("read")
    .expect("no bad line");
    assert_eq!(replaced.inserted, 2, "the population is replaced whole");
    assert_eq!(persons(&store), 2);

    // Bad lines keep their numbers across cuts; one that is not UTF-8 is one of them.
    let bad = b"{\"personId\":\"191212121213\",\"givenName\":\"X\",\"surname\":\"Y\"}\n\xff\xfe\n";
    let (body, _) = Frames::of(&[&bytes[..in_a], &bytes[in_a..], b"\n", &bad[..7], &bad[7..]]);
    let lines = stream_reset(body, 4096, store.clone(), IdentifierPolicy::default())
        .await
        .expect("read")
        .expect_err("bad lines");
    let numbers: Vec<u64> = lines.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, [3, 4], "{lines:?}");
    assert!(lines[0].1.to_string().contains("check digit"), "{lines:?}");
    assert!(matches!(lines[1].1, LineError::Unreadable(_)), "{lines:?}");
    assert_eq!(persons(&store), 2, "nothing was changed");
}
