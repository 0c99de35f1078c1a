//! The built-in demo library: with no `PLEX_URL`, Marquee starts the project's fake Plex server
//! on a loopback port with real ffmpeg-made media, so a newcomer sees the whole app work at once.

use std::path::Path;
use std::time::Duration;

use marquee_fakes::FakeError;
use marquee_fakes::plex::{FakePlex, FakePlexOptions, TranscodeRules, ensure_media};

/// Generate the demo media in `media_dir` (first run only) and start the fake Plex server,
/// whose transcoder stops a transcode that hears no timeline for `transcode_stop`.
pub async fn start(media_dir: &Path, transcode_stop: Duration) -> Result<FakePlex, FakeError> {
    let media = ensure_media(media_dir).await?;
    let token = uuid::Uuid::new_v4().simple().to_string();
    // Music and photo libraries too, as most real servers have: the home page shows what
    // Marquee does with them.
    let options = FakePlexOptions {
        token,
        music_and_photos: true,
        transcodes: TranscodeRules {
            throttle_after: (transcode_stop / 3).max(Duration::from_millis(300)),
            stop_after: transcode_stop,
            ..TranscodeRules::default()
        },
        ..FakePlexOptions::default()
    };
    FakePlex::start(media, options).await
}
