//! The import of persons with contact information against the same persons without: each
//! line's contacts are checked by the update rules and audited, in the import's batches.

use crate::common::net::import_population;
use crate::common::write_population;
use std::io::{BufRead, Write};
use std::path::Path;
use std::time::Instant;

/// Seconds to import the first `n` persons of `population` (all with contact information),
/// and the same persons without it, each into a fresh data directory; two rounds each,
/// alternating, so both see the same machine.
pub(crate) fn import_with_and_without_contacts(
    bin: &Path,
    population: &Path,
    dir: &Path,
    n: u64,
) -> ([f64; 2], [f64; 2]) {
    let with = dir.join("import-with-contacts.jsonl");
    let without = dir.join("import-without-contacts.jsonl");
    first_lines(population, &with, n);
    write_population(&without, n);
    let mut times = ([0.0; 2], [0.0; 2]);
    for round in 0..2 {
        times.0[round] = timed_import(bin, &with, &dir.join(format!("import-with-{round}")));
        times.1[round] = timed_import(bin, &without, &dir.join(format!("import-without-{round}")));
    }
    times
}

fn timed_import(bin: &Path, file: &Path, data: &Path) -> f64 {
    let started = Instant::now();
    import_population(bin, file, data);
    started.elapsed().as_secs_f64()
}

fn first_lines(from: &Path, to: &Path, n: u64) {
    let input = std::io::BufReader::new(std::fs::File::open(from).unwrap());
    let mut out = std::io::BufWriter::new(std::fs::File::create(to).unwrap());
    for line in input.lines().take(n as usize) {
        writeln!(out, "{}", line.unwrap()).unwrap();
    }
}
