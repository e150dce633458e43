//! An I/O wrapper that records when bytes last moved and when the head of the next request
//! began, so that idle keep-alive connections and slow request heads get timeouts of their
//! own: hyper's header-read timer also runs on an idle keep-alive connection, which closed
//! it after the header timeout instead of the idle one.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Milliseconds since `epoch` of the last read or write, and of the first byte of a request
/// head not yet parsed (`0`: none pending).
#[derive(Debug, Clone)]
pub(crate) struct Activity {
    epoch: Instant,
    last_ms: Arc<AtomicU64>,
    head_started_ms: Arc<AtomicU64>,
    requests_open: Arc<AtomicU64>,
}

impl Activity {
    /// Starts the clock now.
    pub(crate) fn new() -> Self {
        Self {
            epoch: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
            head_started_ms: Arc::new(AtomicU64::new(0)),
            requests_open: Arc::new(AtomicU64::new(0)),
        }
    }

    fn now_ms(&self) -> u64 {
        // +1 so that a head starting in the first millisecond is not "none".
        u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1)
    }

    fn touch(&self) {
        self.last_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// Bytes arrived: between requests, they begin the next request's head.
    fn read_some(&self) {
        self.touch();
        if self.requests_open.load(Ordering::Acquire) == 0 {
            let _ = self.head_started_ms.compare_exchange(
                0,
                self.now_ms(),
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
        }
    }

    /// The head was parsed and the request is being answered; the guard ends it.
    pub(crate) fn request_started(&self) -> RequestGuard {
        self.requests_open.fetch_add(1, Ordering::AcqRel);
        self.head_started_ms.store(0, Ordering::Release);
        RequestGuard(self.clone())
    }

    /// How long the head of a request has been arriving, if one is.
    pub(crate) fn head_pending_for(&self) -> Option<std::time::Duration> {
        match self.head_started_ms.load(Ordering::Acquire) {
            0 => None,
            started => Some(std::time::Duration::from_millis(
                self.now_ms().saturating_sub(started),
            )),
        }
    }

    /// Whether a request is being answered.
    pub(crate) fn busy(&self) -> bool {
        self.requests_open.load(Ordering::Acquire) > 0
    }

    /// How long since bytes last moved.
    pub(crate) fn idle_for(&self) -> std::time::Duration {
        let now = self.epoch.elapsed().as_millis() as u64;
        std::time::Duration::from_millis(now.saturating_sub(self.last_ms.load(Ordering::Relaxed)))
    }
}

impl Default for Activity {
    fn default() -> Self {
        Self::new()
    }
}

/// Ends a request's "being answered" state when dropped (also when the handler panics).
pub(crate) struct RequestGuard(Activity);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.requests_open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Wraps an I/O object and touches `activity` on every transfer.
pub(crate) struct ActivityIo<T> {
    inner: T,
    activity: Activity,
}

impl<T> ActivityIo<T> {
    /// Wraps `inner`; each read or write then marks `activity` as recent.
    pub(crate) fn new(inner: T, activity: Activity) -> Self {
        Self { inner, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ActivityIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.read_some();
        }
        res
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ActivityIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        res
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
