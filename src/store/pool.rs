//! A blocking connection pool shared by both backends: at most `max` connections, opened on
//! first need and kept; a caller waits while all are lent. A fixed maximum is what bounds the
//! store's memory (each SQLite connection carries a page cache) and the database's sessions.

use super::StoreError;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a caller waits for a free connection before its request fails.
const WAIT: Duration = Duration::from_secs(5);

/// Opens one connection of the pool.
type Opener<C> = Box<dyn Fn() -> Result<C, StoreError> + Send + Sync>;

/// Connections of type `C`, at most `max` of them.
pub(crate) struct Pool<C> {
    what: &'static str,
    max: usize,
    open: Opener<C>,
    usable: fn(&C) -> bool,
    state: Mutex<State<C>>,
    returned: Condvar,
}

struct State<C> {
    idle: Vec<C>,
    opened: usize,
}

/// A connection lent from the pool; it goes back on drop, also when the borrower panicked.
struct Lease<'a, C> {
    pool: &'a Pool<C>,
    conn: Option<C>,
}

impl<C> Drop for Lease<'_, C> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.give_back(conn);
        }
        crate::metrics::global().pool_lent(self.pool.what, false);
    }
}

impl<C> Pool<C> {
    /// A pool of at most `max` (at least one) connections made by `open`; `usable` tells a broken one.
    pub(crate) fn new(
        what: &'static str,
        max: usize,
        open: Opener<C>,
        usable: fn(&C) -> bool,
    ) -> Self {
        Self {
            what,
            max: max.max(1),
            open,
            usable,
            state: Mutex::new(State {
                idle: Vec::new(),
                opened: 0,
            }),
            returned: Condvar::new(),
        }
    }

    /// Runs `f` on a lent connection.
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&mut C) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut lease = self.lend()?;
        crate::metrics::global().pool_lent(self.what, true);
        match lease.conn.as_mut() {
            Some(conn) => f(conn),
            None => Err(StoreError::Invariant("a pool lease without a connection")),
        }
    }

    /// Whether a caller would get a connection now, without waiting.
    pub(crate) fn can_lend_now(&self) -> bool {
        self.lock()
            .is_ok_and(|s| !s.idle.is_empty() || s.opened < self.max)
    }

    /// Connections open now (idle and lent).
    #[cfg(test)]
    pub(crate) fn opened(&self) -> usize {
        self.lock().map(|s| s.opened).unwrap_or(0)
    }

    /// Takes the idle connections out, e.g. to close them on a thread of their own.
    pub(crate) fn drain_idle(&mut self) -> Vec<C> {
        self.state
            .get_mut()
            .map(|s| std::mem::take(&mut s.idle))
            .unwrap_or_default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, State<C>>, StoreError> {
        self.state.lock().map_err(|_| self.poisoned())
    }

    fn poisoned(&self) -> StoreError {
        StoreError::Poisoned(self.what)
    }

    fn lend(&self) -> Result<Lease<'_, C>, StoreError> {
        let deadline = Instant::now() + WAIT;
        let mut state = self.lock()?;
        loop {
            while let Some(conn) = state.idle.pop() {
                if (self.usable)(&conn) {
                    return Ok(Lease {
                        pool: self,
                        conn: Some(conn),
                    });
                }
                state.opened -= 1;
            }
            if state.opened < self.max {
                state.opened += 1;
                drop(state);
                return match (self.open)() {
                    Ok(conn) => Ok(Lease {
                        pool: self,
                        conn: Some(conn),
                    }),
                    Err(e) => {
                        self.forget_one();
                        Err(e)
                    }
                };
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(StoreError::PoolExhausted {
                    what: self.what,
                    max: self.max,
                    seconds: WAIT.as_secs(),
                });
            }
            state = self
                .returned
                .wait_timeout(state, left)
                .map_err(|_| self.poisoned())?
                .0;
        }
    }

    /// Keeps a usable connection for the next caller; a broken one is closed so a fresh one replaces it.
    fn give_back(&self, conn: C) {
        let usable = (self.usable)(&conn);
        if let Ok(mut state) = self.state.lock() {
            if usable {
                state.idle.push(conn);
            } else {
                state.opened -= 1;
            }
        }
        self.returned.notify_one();
    }

    fn forget_one(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.opened -= 1;
        }
        self.returned.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn counting_pool(max: usize) -> (Arc<Pool<usize>>, Arc<AtomicUsize>) {
        let made = Arc::new(AtomicUsize::new(0));
        let m = made.clone();
        (
            Arc::new(Pool::new(
                "test",
                max,
                Box::new(move || Ok(m.fetch_add(1, Ordering::SeqCst))),
                |_| true,
            )),
            made,
        )
    }

    #[test]
    fn many_concurrent_callers_never_open_more_than_the_maximum() {
        let (pool, made) = counting_pool(3);
        let threads: Vec<_> = (0..24)
            .map(|_| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        pool.with(|_| {
                            std::thread::yield_now();
                            Ok(())
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!((pool.opened(), made.load(Ordering::SeqCst)), (3, 3));
    }

    #[test]
    fn a_connection_whose_borrower_panicked_goes_back_to_the_pool() {
        let (pool, made) = counting_pool(1);
        let p = pool.clone();
        let _ = std::thread::spawn(move || {
            p.with(|_| -> Result<(), StoreError> { panic!("borrower crashed") })
        })
        .join();
        pool.with(|_| Ok(())).unwrap();
        assert_eq!((pool.opened(), made.load(Ordering::SeqCst)), (1, 1));
    }

    #[test]
    fn a_failed_open_frees_its_slot() {
        let tries = Arc::new(AtomicUsize::new(0));
        let t = tries.clone();
        let pool: Pool<()> = Pool::new(
            "test",
            1,
            Box::new(move || match t.fetch_add(1, Ordering::SeqCst) {
                0 => Err(StoreError::Corrupt("refused".into())),
                _ => Ok(()),
            }),
            |_| true,
        );
        assert!(pool.with(|_| Ok(())).is_err());
        pool.with(|_| Ok(())).unwrap();
        assert_eq!(pool.opened(), 1);
    }

    #[test]
    fn broken_connections_are_replaced() {
        let (pool, made) = {
            let made = Arc::new(AtomicUsize::new(0));
            let m = made.clone();
            (
                Pool::new(
                    "test",
                    1,
                    Box::new(move || Ok(m.fetch_add(1, Ordering::SeqCst))),
                    |n: &usize| *n != 0,
                ),
                made,
            )
        };
        pool.with(|_| Ok(())).unwrap(); // connection 0 is "broken" and closed on return
        assert_eq!(pool.with(|n| Ok(*n)).unwrap(), 1);
        assert_eq!((pool.opened(), made.load(Ordering::SeqCst)), (1, 2));
    }
}
