//! Segment files and the journal directory: creation (preallocated, synced), listing,
//! removal, the directory lock (one server per journal) and the journal's id.

use super::faults::{FaultPoint, Faults};
use crate::store::StoreError;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The segment being appended to.
pub(super) struct Segment {
    pub(super) first: u64,
    pub(super) file: File,
    pub(super) offset: u64,
    faults: Faults,
}

impl Segment {
    /// A new, preallocated segment whose first record will be `first`. A segment that
    /// could not be made whole (a full disk, a failed preallocation or sync) is removed
    /// again: no indexer knows it, and left behind it would stay forever.
    pub(super) fn create(
        dir: &Path,
        first: u64,
        bytes: u64,
        faults: &Faults,
    ) -> Result<Self, StoreError> {
        let path = segment_path(dir, first);
        let io = |source| StoreError::Journal {
            path: path.clone(),
            source,
        };
        faults.check(FaultPoint::Create).map_err(io)?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(io)?;
        if let Err(e) = prepare(dir, &file, bytes, faults) {
            drop(file);
            discard(dir, &path);
            return Err(e);
        }
        Ok(Self {
            first,
            file,
            offset: 0,
            faults: faults.clone(),
        })
    }

    pub(super) fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.faults.check(FaultPoint::Write)?;
        self.file.write_all_at(bytes, self.offset)?;
        self.faults.check(FaultPoint::Sync)?;
        self.file.sync_data()?;
        self.offset += bytes.len() as u64;
        Ok(())
    }
}

/// Preallocates a new segment and makes it and its directory entry durable.
fn prepare(dir: &Path, file: &File, bytes: u64, faults: &Faults) -> Result<(), StoreError> {
    let path = || dir.to_owned();
    faults
        .check(FaultPoint::Preallocate)
        .and_then(|()| preallocate(file, bytes))
        .map_err(|source| StoreError::Journal {
            path: path(),
            source,
        })?;
    faults
        .check(FaultPoint::CreateSync)
        .and_then(|()| file.sync_all())
        .map_err(|source| StoreError::Journal {
            path: path(),
            source,
        })?;
    sync_dir(dir)
}

/// Removes a segment that failed to be made, best effort: the disk is failing already.
pub(super) fn discard(dir: &Path, path: &Path) {
    if let Err(e) = std::fs::remove_file(path)
        .map_err(|source| StoreError::Journal {
            path: path.to_owned(),
            source,
        })
        .and_then(|()| sync_dir(dir))
    {
        tracing::warn!(error = %e, "could not remove an audit journal segment that failed to be made");
    }
}

/// Reserves the segment's blocks up front, so an append's `fdatasync` rarely has file-size
/// metadata to write as well; a file system without fallocate gets a sized (sparse) file.
fn preallocate(file: &File, bytes: u64) -> std::io::Result<()> {
    match rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), 0, bytes) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::OPNOTSUPP | rustix::io::Errno::NOSYS) => file.set_len(bytes),
        Err(e) => Err(e.into()),
    }
}

pub(super) const ID_FILE: &str = "journal-id";
const SEGMENT_SUFFIX: &str = ".audit";

pub(super) fn segment_path(dir: &Path, first: u64) -> PathBuf {
    dir.join(format!("{first:020}{SEGMENT_SUFFIX}"))
}

/// The segment files, oldest first.
pub(super) fn segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, StoreError> {
    let io = |source| StoreError::Journal {
        path: dir.to_owned(),
        source,
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let first = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(SEGMENT_SUFFIX))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(first) = first {
            found.push((first, path));
        }
    }
    found.sort();
    Ok(found)
}

pub(super) fn remove_segment(dir: &Path, path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(path) {
        Ok(()) => sync_dir(dir),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StoreError::Journal {
            path: path.to_owned(),
            source,
        }),
    }
}

pub(super) fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::DirBuilderExt;
    let existed = dir.is_dir();
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| StoreError::Journal {
            path: dir.to_owned(),
            source,
        })?;
    // A new directory survives a power cut only once its parent is synced.
    match dir
        .parent()
        .filter(|p| !existed && !p.as_os_str().is_empty())
    {
        Some(parent) => sync_dir(parent),
        None => Ok(()),
    }
}

/// A created or removed file survives a crash only once its directory is synced.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| StoreError::Journal {
            path: dir.to_owned(),
            source,
        })
}

pub(super) fn lock_directory(dir: &Path) -> Result<File, StoreError> {
    let path = dir.join("lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&path)
        .map_err(|source| StoreError::Journal {
            path: path.clone(),
            source,
        })?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive)
        .map_err(|_| StoreError::JournalInUse(dir.to_owned()))?;
    Ok(file)
}

/// The journal's name in the index's marks, made once per directory.
pub(super) fn journal_id(dir: &Path) -> Result<String, StoreError> {
    read_or_make(dir, ID_FILE, || uuid::Uuid::new_v4().to_string())
}

/// Where a journal keeps the identity of the database it belongs to.
pub(super) const DATABASE_FILE: &str = "database-id";

/// Checks that the journal in `dir` belongs to the database whose identity is `database`,
/// giving it that identity when it has none yet (a new journal, or one made before journals
/// carried it).
pub(super) fn claim_for_database(dir: &Path, database: &str) -> Result<(), StoreError> {
    let journal_database = read_or_make(dir, DATABASE_FILE, || database.to_owned())?;
    same_database(dir, journal_database, database)
}

/// Checks, without writing, that the journal in `dir` does not belong to another database.
pub(super) fn check_database(dir: &Path, database: &str) -> Result<(), StoreError> {
    match read_small(dir, DATABASE_FILE)? {
        Some(journal_database) => same_database(dir, journal_database, database),
        None => Ok(()),
    }
}

fn same_database(dir: &Path, journal_database: String, database: &str) -> Result<(), StoreError> {
    if journal_database == database {
        return Ok(());
    }
    Err(StoreError::JournalOfAnotherDatabase {
        dir: dir.to_owned(),
        journal_database,
        database: database.to_owned(),
    })
}

/// The trimmed text of `dir/name`, `None` when it is missing or empty.
fn read_small(dir: &Path, name: &str) -> Result<Option<String>, StoreError> {
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => Ok(Some(text.trim().to_owned())),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StoreError::Journal { path, source }),
    }
}

/// The text of `dir/name`, written first (durably, whole or not at all) from `make` when
/// the file is missing or empty.
fn read_or_make(
    dir: &Path,
    name: &str,
    make: impl FnOnce() -> String,
) -> Result<String, StoreError> {
    if let Some(text) = read_small(dir, name)? {
        return Ok(text);
    }
    let path = dir.join(name);
    let text = make();
    let tmp = dir.join(format!("{name}.tmp"));
    std::fs::write(&tmp, &text)
        .and_then(|()| File::open(&tmp).and_then(|f| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|source| StoreError::Journal { path, source })?;
    sync_dir(dir)?;
    Ok(text)
}

#[cfg(test)]
mod tests;
