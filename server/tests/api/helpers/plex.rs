//! The fake Plex servers the test servers talk to, and the demo media they serve.

use marquee_fakes::plex::{FakePlex, FakePlexOptions, MediaFiles, default_media_dir, ensure_media};

/// The demo library's media files, made with ffmpeg on first use (shared by every test and
/// kept between runs, so only the first test of a fresh machine pays for it).
pub async fn media() -> MediaFiles {
    ensure_media(&default_media_dir())
        .await
        .expect("demo media (is ffmpeg installed?)")
}

/// A Plex server with the demo library, for tests where several Marquee servers must share one.
pub async fn start_fake_plex() -> FakePlex {
    FakePlex::start(media().await, FakePlexOptions::default())
        .await
        .unwrap()
}

/// A Plex server with the demo library, shaped by `options`.
pub async fn start_fake_plex_with(options: FakePlexOptions) -> FakePlex {
    FakePlex::start(media().await, options).await.unwrap()
}

/// A Plex server whose library has sections but nothing in them.
pub async fn start_empty_fake_plex() -> FakePlex {
    let options = FakePlexOptions {
        large_section_items: 0,
        demo_items: false,
        ..FakePlexOptions::default()
    };
    FakePlex::start(media().await, options).await.unwrap()
}
