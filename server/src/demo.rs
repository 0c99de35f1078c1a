//! The built-in demo library: with no `PLEX_URL`, Marquee starts the project's fake Plex server
//! on a loopback port with real ffmpeg-made media, so a newcomer sees the whole app work at once.

use std::path::PathBuf;

use crate::config::Config;

use marquee_fakes::plex::{FakePlex, FakePlexOptions, ensure_media};

use crate::startup::StartError;

/// Generate the demo media (first run only) and start the fake Plex server.
pub async fn start(config: &Config) -> Result<FakePlex, StartError> {
    let media_dir = media_dir(config);
    let media = ensure_media(&media_dir)
        .await
        .map_err(|e| StartError::Demo(e.to_string()))?;
    let token = uuid::Uuid::new_v4().simple().to_string();
    let options = FakePlexOptions {
        token,
        ..FakePlexOptions::default()
    };
    FakePlex::start(media, options)
        .await
        .map_err(|e| StartError::Demo(e.to_string()))
}

/// Where the demo media lives for this configuration.
pub fn media_dir(config: &Config) -> PathBuf {
    config
        .demo_media_dir
        .clone()
        .unwrap_or_else(|| config.data_dir.join("demo-media"))
}
