//! Overload protection: a cap on requests in flight, one per consumer, and a cap on
//! connections per client certificate, so one misbehaving consumer cannot starve others.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Why a request or connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The service as a whole has too many requests in flight.
    Busy,
    /// This consumer has too many requests in flight.
    ConsumerBusy,
}

/// Counts requests and connections in flight.
pub(crate) struct Limiter {
    global: Arc<Semaphore>,
    per_consumer: usize,
    consumers: Mutex<HashMap<String, Arc<Semaphore>>>,
    per_certificate: usize,
    connections: Mutex<HashMap<String, usize>>,
}

/// Held while a request is being answered.
pub(crate) struct RequestPermit {
    _global: OwnedSemaphorePermit,
    _consumer: Option<OwnedSemaphorePermit>,
}

/// Held while a connection is open; releases its slot when dropped.
pub(crate) struct ConnectionSlot {
    limiter: Arc<Limiter>,
    key: String,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        if let Ok(mut c) = self.limiter.connections.lock() {
            if let Some(n) = c.get_mut(&self.key) {
                *n -= 1;
                if *n == 0 {
                    c.remove(&self.key);
                }
            }
        }
    }
}

impl Limiter {
    /// `max_in_flight` requests in all, `per_consumer` per consumer, `per_certificate` connections per certificate.
    pub(crate) fn new(max_in_flight: usize, per_consumer: usize, per_certificate: usize) -> Self {
        Self {
            global: Arc::new(Semaphore::new(max_in_flight)),
            per_consumer,
            consumers: Mutex::new(HashMap::new()),
            per_certificate,
            connections: Mutex::new(HashMap::new()),
        }
    }

    /// A slot for one request of `consumer`, or why not; never waits.
    pub(crate) fn admit(&self, consumer: Option<&str>) -> Result<RequestPermit, Refusal> {
        let global = self
            .global
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refusal::Busy)?;
        let consumer = match consumer {
            Some(c) => {
                let sem = self
                    .consumers
                    .lock()
                    .map_err(|_| Refusal::Busy)?
                    .entry(c.to_owned())
                    .or_insert_with(|| Arc::new(Semaphore::new(self.per_consumer)))
                    .clone();
                Some(sem.try_acquire_owned().map_err(|_| Refusal::ConsumerBusy)?)
            }
            None => None,
        };
        Ok(RequestPermit {
            _global: global,
            _consumer: consumer,
        })
    }

    /// A connection slot for the certificate named `key`, or None when it has too many.
    pub(crate) fn connect(self: &Arc<Self>, key: &str) -> Option<ConnectionSlot> {
        let mut c = self.connections.lock().ok()?;
        let n = c.entry(key.to_owned()).or_insert(0);
        if *n >= self.per_certificate {
            return None;
        }
        *n += 1;
        Some(ConnectionSlot {
            limiter: self.clone(),
            key: key.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_consumer_cannot_take_every_slot() {
        let l = Limiter::new(3, 2, 1);
        let a1 = l.admit(Some("A")).unwrap();
        let _a2 = l.admit(Some("A")).unwrap();
        assert_eq!(l.admit(Some("A")).err(), Some(Refusal::ConsumerBusy));
        let _b = l.admit(Some("B")).unwrap();
        assert_eq!(l.admit(Some("C")).err(), Some(Refusal::Busy));
        drop(a1);
        assert!(l.admit(Some("A")).is_ok());
    }

    #[test]
    fn connections_per_certificate_are_capped_and_released() {
        let l = Arc::new(Limiter::new(10, 10, 2));
        let s1 = l.connect("A").unwrap();
        let _s2 = l.connect("A").unwrap();
        assert!(l.connect("A").is_none());
        assert!(l.connect("B").is_some());
        drop(s1);
        assert!(l.connect("A").is_some());
    }
}
