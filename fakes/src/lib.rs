//! Fakes of the outside services Marquee talks to.
//!
//! They exist so tests and the built-in demo library exercise the same code paths a real
//! deployment does, without a Plex account or a Discord bot token.

#![recursion_limit = "256"]

pub mod discord;
pub mod plex;
pub mod plextv;

/// Why a fake could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum FakeError {
    /// ffmpeg is needed to make the demo media and was not found on PATH.
    #[error(
        "ffmpeg was not found on PATH; it is needed once to generate the demo media (install it, e.g. `apt-get install -y ffmpeg`)"
    )]
    FfmpegMissing,
    /// An ffmpeg run failed; `stderr` holds the tail of its output.
    #[error("ffmpeg failed while generating {what}: {stderr}")]
    Ffmpeg {
        /// Which file was being generated.
        what: String,
        /// The end of ffmpeg's error output.
        stderr: String,
    },
    /// A filesystem or socket operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being attempted.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A test waited for something that did not happen.
    #[error("timed out waiting for {0}")]
    Timeout(String),
}

impl FakeError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| FakeError::Io { context, source }
    }
}
