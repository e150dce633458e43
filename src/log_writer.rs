//! Where log lines go: appended to a buffer in memory under a short lock and written to
//! the output by a thread of its own every [`FLUSH_EVERY`]. A request's line is never a
//! system call of the request, and nothing wakes the writer per line: a write and a wake-up
//! per line cost more than the rest of a read's logging together (a writer thread woken per
//! line is what `tracing-appender` does).
//!
//! Bounded: past [`MAX_BUFFERED`] bytes waiting (the output does not keep up), lines are
//! counted and dropped rather than slowing requests, and the count is written in their place.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a line may wait in memory.
pub const FLUSH_EVERY: Duration = Duration::from_millis(20);

/// Bytes waiting at most before lines are dropped.
const MAX_BUFFERED: usize = 16 * 1024 * 1024;

struct Shared {
    buffer: Mutex<Vec<u8>>,
    dropped: AtomicU64,
    stop: AtomicBool,
}

/// Hands out writers for the log subscriber (`tracing_subscriber`'s `MakeWriter`).
#[derive(Clone)]
pub struct BufferedLog {
    shared: Arc<Shared>,
}

/// Writes what is buffered when dropped, and stops the writer thread.
pub struct FlushGuard {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A buffered log writing to `out`, and the guard that flushes it at exit.
pub fn buffered(out: impl Write + Send + 'static) -> std::io::Result<(BufferedLog, FlushGuard)> {
    let shared = Arc::new(Shared {
        buffer: Mutex::new(Vec::with_capacity(64 * 1024)),
        dropped: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    });
    let writer = shared.clone();
    let thread = std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || write_loop(&writer, out))?;
    Ok((
        BufferedLog {
            shared: shared.clone(),
        },
        FlushGuard {
            shared,
            thread: Some(thread),
        },
    ))
}

fn write_loop(shared: &Shared, mut out: impl Write) {
    let mut spare = Vec::with_capacity(64 * 1024);
    loop {
        let stopping = shared.stop.load(Ordering::Acquire);
        if let Ok(mut buffer) = shared.buffer.lock() {
            std::mem::swap(&mut *buffer, &mut spare);
        }
        let dropped = shared.dropped.swap(0, Ordering::AcqRel);
        if dropped > 0 {
            let _ = writeln!(
                spare,
                "{dropped} log lines dropped: the log output did not keep up"
            );
        }
        if !spare.is_empty() {
            // A failing output (a closed pipe) has nowhere to report to; the lines are gone.
            let _ = out.write_all(&spare).and_then(|()| out.flush());
            spare.clear();
            // After a burst, give the memory back rather than keep a burst-sized buffer.
            if spare.capacity() > 1024 * 1024 {
                spare = Vec::with_capacity(64 * 1024);
            }
        }
        if stopping {
            return;
        }
        std::thread::sleep(FLUSH_EVERY);
    }
}

/// One event's writer: the subscriber formats a line and writes it in one call.
pub struct LineWriter<'a> {
    shared: &'a Shared,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        match self.shared.buffer.lock() {
            Ok(mut buffer) if buffer.len() + line.len() <= MAX_BUFFERED => {
                buffer.extend_from_slice(line);
            }
            _ => {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BufferedLog {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            shared: &self.shared,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::fmt::MakeWriter;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_reach_the_output_in_order_and_the_guard_flushes_the_rest() {
        let sink = Sink::default();
        let (log, guard) = buffered(sink.clone()).unwrap();
        for i in 0..1000 {
            writeln!(log.make_writer(), "line {i}").unwrap();
        }
        drop(guard);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1000);
        assert_eq!((lines[0], lines[999]), ("line 0", "line 999"));
    }

    #[test]
    fn lines_past_the_bound_are_counted_and_reported_not_kept() {
        // No writer thread: the buffer fills as it would behind an output that is stuck.
        let log = BufferedLog {
            shared: Arc::new(Shared {
                buffer: Mutex::new(Vec::new()),
                dropped: AtomicU64::new(0),
                stop: AtomicBool::new(true),
            }),
        };
        log.make_writer()
            .write_all(&vec![b'x'; MAX_BUFFERED])
            .unwrap();
        writeln!(log.make_writer(), "one too many").unwrap();
        writeln!(log.make_writer(), "and another").unwrap();
        let sink = Sink::default();
        write_loop(&log.shared, sink.clone());
        let text = String::from_utf8_lossy(&sink.0.lock().unwrap()).into_owned();
        assert_eq!(
            text.len(),
            MAX_BUFFERED + "2 log lines dropped: the log output did not keep up\n".len()
        );
        assert!(text.ends_with("2 log lines dropped: the log output did not keep up\n"));
    }
}
