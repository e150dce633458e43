//! Failures of the journal's file system on demand, for tests: a segment that cannot be
//! created, preallocated or synced, a write or an `fdatasync` that fails or hangs. Compiled
//! in only for the crate's tests and the `testkit` feature; elsewhere [`Faults`] is empty
//! and every check is a no-op the compiler removes.

use std::path::Path;

/// Where the journal asks whether to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(any(test, feature = "testkit")), allow(unreachable_pub))]
pub enum FaultPoint {
    /// Creating a new segment file.
    Create,
    /// Reserving a new segment's blocks.
    Preallocate,
    /// Syncing a new segment (file and directory).
    CreateSync,
    /// Writing a batch to the segment.
    Write,
    /// The `fdatasync` after a batch's write.
    Sync,
}

#[cfg(any(test, feature = "testkit"))]
pub use enabled::{install, JournalFaults};

#[cfg(any(test, feature = "testkit"))]
mod enabled {
    use super::FaultPoint;
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex};

    /// Decides, at each point, whether the journal's file system fails there: `Some(error)`
    /// fails it; the function may also block, as a hung disk does.
    type Decide = dyn Fn(FaultPoint) -> Option<std::io::Error> + Send + Sync;

    /// The faults of one journal directory.
    pub struct JournalFaults {
        decide: Box<Decide>,
    }

    impl JournalFaults {
        /// Faults decided by `decide`.
        pub fn new(
            decide: impl Fn(FaultPoint) -> Option<std::io::Error> + Send + Sync + 'static,
        ) -> Arc<Self> {
            Arc::new(Self {
                decide: Box::new(decide),
            })
        }

        pub(in crate::store::journal) fn at(&self, point: FaultPoint) -> Option<std::io::Error> {
            (self.decide)(point)
        }
    }

    type Installed = Mutex<Vec<(PathBuf, Arc<JournalFaults>)>>;

    static INSTALLED: Installed = Mutex::new(Vec::new());

    /// Makes the journal opened in `dir` from now on fail as `faults` decides. Keyed by the
    /// directory, so servers of other tests in the same process are not touched.
    pub fn install(dir: &Path, faults: Arc<JournalFaults>) {
        if let Ok(mut installed) = INSTALLED.lock() {
            installed.retain(|(d, _)| d != dir);
            installed.push((dir.to_owned(), faults));
        }
    }

    pub(in crate::store::journal) fn installed(dir: &Path) -> Option<Arc<JournalFaults>> {
        INSTALLED
            .lock()
            .ok()?
            .iter()
            .find(|(d, _)| d == dir)
            .map(|(_, f)| f.clone())
    }
}

/// The faults a journal checks: none outside tests.
#[derive(Clone, Default)]
pub(super) struct Faults {
    #[cfg(any(test, feature = "testkit"))]
    injected: Option<std::sync::Arc<JournalFaults>>,
}

impl Faults {
    /// Those installed for `dir`, if any.
    pub(super) fn for_dir(dir: &Path) -> Self {
        #[cfg(any(test, feature = "testkit"))]
        return Self {
            injected: enabled::installed(dir),
        };
        #[cfg(not(any(test, feature = "testkit")))]
        {
            let _ = dir;
            Self {}
        }
    }

    /// Fails as injected at `point`; always Ok outside tests.
    #[inline]
    #[cfg_attr(
        not(any(test, feature = "testkit")),
        expect(
            clippy::unused_self,
            reason = "the injected faults exist only for tests"
        )
    )]
    pub(super) fn check(&self, point: FaultPoint) -> std::io::Result<()> {
        #[cfg(any(test, feature = "testkit"))]
        if let Some(error) = self.injected.as_ref().and_then(|f| f.at(point)) {
            return Err(error);
        }
        let _ = point;
        Ok(())
    }
}
