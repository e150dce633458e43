//! Overload protection: a cap on requests in flight, one per consumer, and a cap on
//! connections per client certificate, so one misbehaving consumer cannot starve others.
//!
//! Over a cap, a request waits its turn for a bounded time before it is refused, and a
//! connection over its certificate's cap is held unread until a slot frees. A refusal costs
//! the client a retry and the server a whole request (or a mutual-TLS handshake); a short
//! wait in a first-come queue costs a parked task. The queue is bounded without a count of
//! its own: HTTP/1.1 brings one request per connection, and connections are capped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Why a request or connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The service as a whole had too many requests in flight for the whole wait.
    Busy,
    /// This consumer had too many requests in flight for the whole wait.
    ConsumerBusy,
    /// This certificate had too many connections open for the whole wait.
    CertificateBusy,
}

impl Refusal {
    /// The label of the refusal counter in the metrics.
    pub(crate) fn metric_reason(self) -> &'static str {
        match self {
            Refusal::Busy => "service_in_flight",
            Refusal::ConsumerBusy => "consumer_in_flight",
            Refusal::CertificateBusy => "certificate_connections",
        }
    }

    fn index(self) -> usize {
        match self {
            Refusal::Busy => 0,
            Refusal::ConsumerBusy => 1,
            Refusal::CertificateBusy => 2,
        }
    }
}

/// The caps and how long a request or a connection over one waits for a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Caps {
    /// Requests in flight in all.
    pub(crate) in_flight: usize,
    /// Requests in flight of one consumer.
    pub(crate) in_flight_per_consumer: usize,
    /// Connections open with one client certificate.
    pub(crate) connections_per_certificate: usize,
    /// How long a request over an in-flight cap waits before it is refused.
    pub(crate) request_wait: Duration,
    /// How long a connection over its certificate's cap is held before it is closed.
    pub(crate) connection_wait: Duration,
}

/// Counts requests and connections in flight.
pub(crate) struct Limiter {
    caps: Caps,
    global: Arc<Semaphore>,
    consumers: Keyed,
    certificates: Keyed,
    log: RefusalLog,
}

/// Held while a request is being answered.
pub(crate) struct RequestPermit {
    _consumer: Option<KeyedPermit>,
    _global: OwnedSemaphorePermit,
}

/// Held while a connection is open; releases its slot when dropped.
pub(crate) struct ConnectionSlot {
    _permit: KeyedPermit,
}

impl Limiter {
    /// A limiter with these caps.
    pub(crate) fn new(caps: Caps) -> Self {
        Self {
            caps,
            global: Arc::new(Semaphore::new(caps.in_flight)),
            consumers: Keyed::new(caps.in_flight_per_consumer),
            certificates: Keyed::new(caps.connections_per_certificate),
            log: RefusalLog::default(),
        }
    }

    /// Counts a refusal in the metrics and, at most once a second per kind, in the log.
    pub(crate) fn refused(&self, refusal: Refusal, metrics: &crate::metrics::Metrics) {
        metrics.refused(refusal.metric_reason());
        if let Some(count) = self.log.note(refusal) {
            tracing::warn!(
                reason = refusal.metric_reason(),
                refused = count,
                "refused over a cap (counted since the last such line; every refusal is in the metrics)"
            );
        }
    }

    /// A slot for one request of `consumer`, waiting in turn at most the request wait.
    /// The consumer's own slot comes first, so a consumer queued on its own cap holds none
    /// of the service's slots while it waits.
    pub(crate) async fn admit(&self, consumer: Option<&str>) -> Result<RequestPermit, Refusal> {
        let deadline = Instant::now() + self.caps.request_wait;
        let consumer = match consumer {
            Some(c) => Some(
                self.consumers
                    .acquire(c, deadline)
                    .await
                    .ok_or(Refusal::ConsumerBusy)?,
            ),
            None => None,
        };
        let global = acquire(&self.global, deadline).await.ok_or(Refusal::Busy)?;
        Ok(RequestPermit {
            _consumer: consumer,
            _global: global,
        })
    }

    /// A connection slot for the certificate named `key`, waiting at most the connection
    /// wait for one to free; None when none did.
    pub(crate) async fn connect(&self, key: &str) -> Option<ConnectionSlot> {
        let deadline = Instant::now() + self.caps.connection_wait;
        let permit = self.certificates.acquire(key, deadline).await?;
        Some(ConnectionSlot { _permit: permit })
    }
}

/// A permit of `sem`: at once when one is free, else in turn until `deadline`.
async fn acquire(sem: &Arc<Semaphore>, deadline: Instant) -> Option<OwnedSemaphorePermit> {
    if let Ok(permit) = sem.clone().try_acquire_owned() {
        return Some(permit);
    }
    let waiting = sem.clone().acquire_owned();
    match tokio::time::timeout_at(deadline.into(), waiting).await {
        Ok(Ok(permit)) => Some(permit),
        // Timed out, or the semaphore was closed (never done here).
        _ => None,
    }
}

/// One semaphore per key (a consumer's HSA-id, a certificate's serial number), made on
/// first use and forgotten once nobody holds or awaits it: the keys a platform's header
/// may bring are not bounded, the map is.
struct Keyed {
    per_key: usize,
    map: Arc<Mutex<HashMap<Box<str>, Arc<Semaphore>>>>,
}

/// A slot of one key; frees the key's entry when it was the last one in use.
struct KeyedPermit {
    permit: Option<OwnedSemaphorePermit>,
    sem: Arc<Semaphore>,
    key: Box<str>,
    map: Arc<Mutex<HashMap<Box<str>, Arc<Semaphore>>>>,
}

impl Keyed {
    fn new(per_key: usize) -> Self {
        Self {
            per_key,
            map: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    async fn acquire(&self, key: &str, deadline: Instant) -> Option<KeyedPermit> {
        let sem = self.semaphore(key)?;
        let permit = acquire(&sem, deadline).await;
        // Built even when refused, so that its drop forgets an entry nobody uses.
        let held = KeyedPermit {
            permit,
            sem,
            key: key.into(),
            map: self.map.clone(),
        };
        held.permit.is_some().then_some(held)
    }

    fn semaphore(&self, key: &str) -> Option<Arc<Semaphore>> {
        let mut map = self.map.lock().ok()?;
        if let Some(sem) = map.get(key) {
            return Some(sem.clone());
        }
        let sem = Arc::new(Semaphore::new(self.per_key));
        map.insert(key.into(), sem.clone());
        Some(sem)
    }
}

impl Drop for KeyedPermit {
    fn drop(&mut self) {
        let Ok(mut map) = self.map.lock() else {
            return;
        };
        self.permit.take();
        // The map's reference and this one: nobody else holds a slot or waits for one,
        // since both take a reference under this lock before they wait.
        if Arc::strong_count(&self.sem) == 2 {
            map.remove(&self.key);
        }
    }
}

/// At most one WARN line a second per kind of refusal, saying how many there were: a
/// flood of refusals must not also flood the log, nor cost each refusal a formatted line.
pub(crate) struct RefusalLog {
    started: Instant,
    kinds: [KindLog; 3],
}

#[derive(Default)]
struct KindLog {
    next_line_ms: AtomicU64,
    unlogged: AtomicU64,
}

impl Default for RefusalLog {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            kinds: Default::default(),
        }
    }
}

impl RefusalLog {
    /// Counts one refusal; returns how many to report when a line is due now.
    pub(crate) fn note(&self, refusal: Refusal) -> Option<u64> {
        let kind = &self.kinds[refusal.index()];
        kind.unlogged.fetch_add(1, Ordering::Relaxed);
        let now = self.started.elapsed().as_millis() as u64;
        let due = kind.next_line_ms.load(Ordering::Relaxed);
        if now < due {
            return None;
        }
        kind.next_line_ms
            .compare_exchange(due, now + 1000, Ordering::Relaxed, Ordering::Relaxed)
            .ok()?;
        Some(kind.unlogged.swap(0, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(in_flight: usize, per_consumer: usize, per_certificate: usize, wait_ms: u64) -> Caps {
        Caps {
            in_flight,
            in_flight_per_consumer: per_consumer,
            connections_per_certificate: per_certificate,
            request_wait: Duration::from_millis(wait_ms),
            connection_wait: Duration::from_millis(wait_ms),
        }
    }

    #[tokio::test]
    async fn one_consumer_cannot_take_every_slot() {
        let l = Limiter::new(caps(3, 2, 1, 0));
        let a1 = l.admit(Some("A")).await.unwrap();
        let _a2 = l.admit(Some("A")).await.unwrap();
        assert_eq!(l.admit(Some("A")).await.err(), Some(Refusal::ConsumerBusy));
        let _b = l.admit(Some("B")).await.unwrap();
        assert_eq!(l.admit(Some("C")).await.err(), Some(Refusal::Busy));
        drop(a1);
        assert!(l.admit(Some("A")).await.is_ok());
    }

    #[tokio::test]
    async fn a_request_over_a_cap_waits_its_turn_then_is_let_through() {
        let l = Arc::new(Limiter::new(caps(10, 1, 1, 2_000)));
        let first = l.admit(Some("A")).await.unwrap();
        let queued = tokio::spawn({
            let l = l.clone();
            async move { l.admit(Some("A")).await.is_ok() }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!queued.is_finished(), "the second request did not wait");
        drop(first);
        assert!(queued.await.unwrap(), "the waiting request was refused");
    }

    #[tokio::test]
    async fn a_request_over_a_cap_is_refused_after_the_wait() {
        let l = Limiter::new(caps(10, 1, 1, 50));
        let _first = l.admit(Some("A")).await.unwrap();
        let began = Instant::now();
        assert_eq!(l.admit(Some("A")).await.err(), Some(Refusal::ConsumerBusy));
        assert!(began.elapsed() >= Duration::from_millis(45));
    }

    #[tokio::test]
    async fn connections_per_certificate_are_capped_and_released() {
        let l = Limiter::new(caps(10, 10, 2, 0));
        let s1 = l.connect("A").await.unwrap();
        let _s2 = l.connect("A").await.unwrap();
        assert!(l.connect("A").await.is_none());
        assert!(l.connect("B").await.is_some());
        drop(s1);
        assert!(l.connect("A").await.is_some());
    }

    #[tokio::test]
    async fn keys_nobody_uses_are_forgotten() {
        let l = Limiter::new(caps(10, 1, 1, 0));
        for i in 0..100 {
            let _p = l.admit(Some(&format!("consumer-{i}"))).await.unwrap();
        }
        let refused = l.admit(Some("busy")).await.unwrap();
        assert!(l.admit(Some("busy")).await.is_err());
        assert_eq!(
            l.consumers.map.lock().unwrap().len(),
            1,
            "only the held key stays"
        );
        drop(refused);
        assert!(l.consumers.map.lock().unwrap().is_empty());
    }

    #[test]
    fn refusals_are_logged_at_most_once_a_second_with_their_count() {
        let log = RefusalLog::default();
        assert_eq!(log.note(Refusal::Busy), Some(1));
        for _ in 0..99 {
            assert_eq!(log.note(Refusal::Busy), None);
        }
        assert_eq!(log.note(Refusal::ConsumerBusy), Some(1), "kinds are apart");
        std::thread::sleep(Duration::from_millis(1_010));
        assert_eq!(log.note(Refusal::Busy), Some(100));
    }
}
