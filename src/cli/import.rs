//! `pu-adapter import FILE`: population data from JSON Lines, with a progress bar.

use super::args::ImportArgs;
use super::logging::init_logging;
use super::{CliError, Finished};
use indicatif::{ProgressBar, ProgressStyle};
use pu_adapter::domain::IdentifierPolicy;
use pu_adapter::import::{ImportSummary, Scrub};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Imports the file into the configured store. Rejected lines are reported and the good
/// ones kept (exit 2); erased values left in the store's files fail the command (exit 3).
pub(crate) fn import(args: &ImportArgs) -> Result<Finished, CliError> {
    let _log = init_logging(args.config.log_format)?;
    let store = pu_adapter::app::open_store(&args.config.store_settings()?)?;
    let (reader, size) = open_input(&args.file)?;
    let bar = progress_bar(size);
    let policy = IdentifierPolicy {
        reserve_roots: args.config.rules.reserve_roots.clone(),
    };
    let read = Arc::new(AtomicU64::new(0));
    let reader = CountingReader {
        inner: reader,
        count: read.clone(),
    };
    let started = Instant::now();
    let summary = pu_adapter::import::import(reader, store.persons.as_ref(), &policy, |line| {
        bar.set_position(read.load(Ordering::Relaxed));
        bar.set_message(format!("{line} lines"));
    })?;
    bar.finish_and_clear();
    print_summary(&summary, started);
    match summary.scrub {
        Scrub::NothingRemoved => {}
        Scrub::Done(took) => println!(
            "removed values scrubbed from every store file in {:.1}s",
            took.as_secs_f64()
        ),
        Scrub::Incomplete(e) => {
            // ERROR: the person's erased values are still readable in the files (CO-2).
            tracing::error!(error = %e, "removed values are still in the store's files");
            return Err(CliError::ScrubIncomplete(e));
        }
    }
    Ok(if summary.rejected.is_empty() {
        Finished::Clean
    } else {
        Finished::LinesRejected
    })
}

/// The file, buffered in large reads, and its size for the progress bar.
fn open_input(file: &Path) -> Result<(BufReader<std::fs::File>, u64), CliError> {
    let input = |source| CliError::Input {
        path: file.to_owned(),
        source,
    };
    let size = std::fs::metadata(file).map_err(input)?.len();
    let reader = BufReader::with_capacity(1 << 20, std::fs::File::open(file).map_err(input)?);
    Ok((reader, size))
}

fn progress_bar(size: u64) -> ProgressBar {
    let bar = ProgressBar::new(size.max(1));
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {percent}% {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

fn print_summary(summary: &ImportSummary, started: Instant) {
    for (line, reason) in &summary.rejected {
        eprintln!("line {line}: rejected: {reason}");
    }
    println!(
        "imported in {:.1}s: {} inserted, {} updated, {} rejected",
        started.elapsed().as_secs_f64(),
        summary.inserted,
        summary.updated,
        summary.rejected.len()
    );
    if summary.contacts_seeded > 0 {
        println!(
            "contact information entered for {} persons",
            summary.contacts_seeded
        );
    }
}

/// Counts bytes read, for the progress bar.
struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for CountingReader<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.count.fetch_add(amt as u64, Ordering::Relaxed);
        self.inner.consume(amt);
    }
}
