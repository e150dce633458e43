//! Connection pools: a blocking one shared by both backends, and an async one for the
//! PostgreSQL reads an async task awaits. Each holds at most `max` connections, opened on
//! first need and kept; a caller waits while all are lent. A fixed maximum is what bounds the
//! store's memory (each SQLite connection carries a page cache) and the database's sessions.

use super::StoreError;
use std::future::Future;
use std::pin::Pin;
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

/// Opens one connection of an [`AsyncPool`].
pub(crate) type AsyncOpener<C> =
    Box<dyn Fn() -> Pin<Box<dyn Future<Output = Result<C, StoreError>> + Send>> + Send + Sync>;

/// Connections of type `C` for async tasks, at most `max` of them: a task waiting for one
/// is parked, not a thread. A connection goes back to the pool only when its borrower
/// [settled](AsyncLease::settle) it: one dropped mid-request (a timeout, a panic, a request
/// cut short) may still have an answer on its way, or be stuck on a dead peer, so it is
/// closed and a fresh one replaces it.
pub(crate) struct AsyncPool<C> {
    what: &'static str,
    max: usize,
    open: AsyncOpener<C>,
    usable: fn(&C) -> bool,
    idle: Mutex<Vec<C>>,
    /// One permit per connection that may be lent; idle connections hold none.
    permits: tokio::sync::Semaphore,
}

/// A connection lent from an [`AsyncPool`]; on drop it goes back if settled and usable.
pub(crate) struct AsyncLease<'a, C> {
    pool: &'a AsyncPool<C>,
    conn: Option<C>,
    settled: bool,
    /// Released after `drop` put the connection back, so the next borrower finds it idle.
    _permit: tokio::sync::SemaphorePermit<'a>,
}

impl<C> AsyncPool<C> {
    /// A pool of at most `max` (at least one) connections made by `open`; `usable` tells a broken one.
    pub(crate) fn new(
        what: &'static str,
        max: usize,
        open: AsyncOpener<C>,
        usable: fn(&C) -> bool,
    ) -> Self {
        let max = max.max(1);
        Self {
            what,
            max,
            open,
            usable,
            idle: Mutex::new(Vec::new()),
            permits: tokio::sync::Semaphore::new(max),
        }
    }

    /// A connection, once one is free (an idle one, or a new one while fewer than `max`
    /// are open); fails after waiting WAIT.
    pub(crate) async fn lend(&self) -> Result<AsyncLease<'_, C>, StoreError> {
        let permit = match tokio::time::timeout(WAIT, self.permits.acquire()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(StoreError::Invariant("an async pool's permits closed")),
            Err(_) => {
                return Err(StoreError::PoolExhausted {
                    what: self.what,
                    max: self.max,
                    seconds: WAIT.as_secs(),
                })
            }
        };
        let conn = match self.take_idle()? {
            Some(conn) => conn,
            None => (self.open)().await?,
        };
        crate::metrics::global().pool_lent(self.what, true);
        Ok(AsyncLease {
            pool: self,
            conn: Some(conn),
            settled: false,
            _permit: permit,
        })
    }

    /// An idle connection that is still usable; the broken ones found on the way are closed.
    fn take_idle(&self) -> Result<Option<C>, StoreError> {
        let mut idle = self
            .idle
            .lock()
            .map_err(|_| StoreError::Poisoned(self.what))?;
        Ok(std::iter::from_fn(|| idle.pop()).find(|c| (self.usable)(c)))
    }

    /// Connections idle now.
    #[cfg(test)]
    fn idle(&self) -> usize {
        self.idle.lock().map(|i| i.len()).unwrap_or(0)
    }
}

impl<C> AsyncLease<'_, C> {
    /// The lent connection.
    pub(crate) fn conn(&mut self) -> Result<&mut C, StoreError> {
        self.conn.as_mut().ok_or(StoreError::Invariant(
            "an async pool lease without a connection",
        ))
    }

    /// The borrower is done and left the connection with nothing in flight: it may serve
    /// the next borrower.
    pub(crate) fn settle(&mut self) {
        self.settled = true;
    }
}

impl<C> Drop for AsyncLease<'_, C> {
    fn drop(&mut self) {
        crate::metrics::global().pool_lent(self.pool.what, false);
        // An unsettled or broken connection is dropped here instead, which closes it.
        let Some(conn) = self.conn.take() else { return };
        if self.settled && (self.pool.usable)(&conn) {
            if let Ok(mut idle) = self.pool.idle.lock() {
                idle.push(conn);
            }
        }
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

#[cfg(test)]
mod async_tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// A pool whose connections are numbered in the order opened; `broken` tells a broken one.
    fn numbered_pool(
        max: usize,
        broken: fn(&usize) -> bool,
    ) -> (Arc<AsyncPool<usize>>, Arc<AtomicUsize>) {
        let made = Arc::new(AtomicUsize::new(0));
        let m = made.clone();
        let open: AsyncOpener<usize> = Box::new(move || {
            let n = m.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move { Ok(n) })
        });
        (Arc::new(AsyncPool::new("test", max, open, broken)), made)
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn many_concurrent_tasks_never_open_more_than_the_maximum() {
        let (pool, made) = numbered_pool(3, |_| true);
        runtime().block_on(async {
            let tasks: Vec<_> = (0..24)
                .map(|_| {
                    let pool = pool.clone();
                    tokio::spawn(async move {
                        for _ in 0..50 {
                            let mut lease = pool.lend().await.unwrap();
                            tokio::task::yield_now().await;
                            lease.settle();
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        assert_eq!((pool.idle(), made.load(Ordering::SeqCst)), (3, 3));
    }

    #[test]
    fn a_connection_not_settled_is_closed_and_replaced() {
        let (pool, made) = numbered_pool(1, |_| true);
        runtime().block_on(async {
            // Dropped mid-request (a timeout, a panic): its state is unknown.
            drop(pool.lend().await.unwrap());
            let mut lease = pool.lend().await.unwrap();
            assert_eq!(*lease.conn().unwrap(), 1);
            lease.settle();
            drop(lease);
            assert_eq!(*pool.lend().await.unwrap().conn().unwrap(), 1);
        });
        assert_eq!(made.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn broken_connections_are_replaced() {
        let (pool, made) = numbered_pool(1, |n| *n != 0);
        runtime().block_on(async {
            let mut lease = pool.lend().await.unwrap();
            lease.settle(); // connection 0 is "broken" and closed on return
            drop(lease);
            assert_eq!(*pool.lend().await.unwrap().conn().unwrap(), 1);
        });
        assert_eq!(made.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_failed_open_frees_its_permit() {
        let tries = Arc::new(AtomicUsize::new(0));
        let t = tries.clone();
        let open: AsyncOpener<()> = Box::new(move || {
            let refused = t.fetch_add(1, Ordering::SeqCst) == 0;
            Box::pin(async move {
                if refused {
                    Err(StoreError::Corrupt("refused".into()))
                } else {
                    Ok(())
                }
            })
        });
        let pool = AsyncPool::new("test", 1, open, |_| true);
        runtime().block_on(async {
            assert!(pool.lend().await.is_err());
            assert!(pool.lend().await.is_ok());
        });
    }
}
