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
    let path = dir.join(ID_FILE);
    let io = |source| StoreError::Journal {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => return Ok(id.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let id = uuid::Uuid::new_v4().to_string();
    let tmp = dir.join(format!("{ID_FILE}.tmp"));
    std::fs::write(&tmp, &id)
        .and_then(|()| File::open(&tmp).and_then(|f| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(io)?;
    sync_dir(dir)?;
    Ok(id)
}

#[cfg(test)]
mod tests;
