//! What the test binary logs: one process-wide subscriber writing into memory, installed by the
//! first test that asks, at warn level; [`Captured::trace`] turns it up to trace while a test
//! needs every line (logging everything for the whole binary would slow every other test).
//! Tests look for their own lines in it (a secret that must not appear, the reference of an
//! error they caused).

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::reload;
use tracing_subscriber::util::SubscriberInitExt;

/// The captured log text, shared by every test of the binary.
#[derive(Clone)]
pub struct Captured {
    buffer: Buffer,
    level: reload::Handle<LevelFilter, tracing_subscriber::Registry>,
}

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

/// Trace level until dropped.
pub struct Verbose(Captured);

impl Drop for Verbose {
    fn drop(&mut self) {
        let _ = self.0.level.modify(|l| *l = LevelFilter::WARN);
    }
}

impl Captured {
    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buffer.0.lock().unwrap()).into_owned()
    }

    /// Logs everything, down to trace, until the guard is dropped.
    pub fn trace(&self) -> Verbose {
        self.level.modify(|l| *l = LevelFilter::TRACE).unwrap();
        Verbose(self.clone())
    }

    /// The lines that contain `needle`.
    pub fn lines_with(&self, needle: &str) -> String {
        self.text()
            .lines()
            .filter(|l| l.contains(needle))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber (once) and returns it.
pub fn capture() -> Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let (filter, level) = reload::Layer::new(LevelFilter::WARN);
        tracing_subscriber::registry()
            .with(filter)
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(move || writer.clone())
                    .with_ansi(false),
            )
            .init();
        Captured { buffer, level }
    })
    .clone()
}
