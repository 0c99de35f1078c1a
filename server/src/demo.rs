//! The built-in demo library: with no `PLEX_URL`, Marquee starts the project's fake Plex server
//! on a loopback port with real ffmpeg-made media, so a newcomer sees the whole app work at once,
//! and a fake plex.tv beside it whose Plex users ("river", "juniper", and "outsider", who has no
//! access to the server) let "Link Plex" be tried end to end.

use std::path::Path;
use std::time::Duration;

use marquee_fakes::FakeError;
use marquee_fakes::plex::{FakePlex, FakePlexOptions, TranscodeRules, ensure_media};
use marquee_fakes::plextv::{
    FakePlexTv, FakePlexTvOptions, ServerResource, demo_users, server_accounts,
};

/// The demo's fake services.
pub struct Demo {
    pub plex: FakePlex,
    pub plex_tv: FakePlexTv,
}

/// Generate the demo media in `media_dir` (first run only) and start the fake Plex server,
/// whose transcoder stops a transcode that hears no timeline for `transcode_stop`, and the
/// fake plex.tv.
pub async fn start(media_dir: &Path, transcode_stop: Duration) -> Result<Demo, FakeError> {
    let media = ensure_media(media_dir).await?;
    let token = uuid::Uuid::new_v4().simple().to_string();
    let users = demo_users();
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
        accounts: server_accounts(&users),
        ..FakePlexOptions::default()
    };
    let server = ServerResource {
        name: options.friendly_name.clone(),
        machine_identifier: options.machine_identifier.clone(),
        uri: String::new(),
    };
    let plex = FakePlex::start(media, options).await?;
    let plex_tv = FakePlexTv::start(FakePlexTvOptions {
        users,
        server: ServerResource {
            uri: plex.base_url(),
            ..server
        },
        pin_ttl: Duration::from_secs(30 * 60),
    })
    .await?;
    Ok(Demo { plex, plex_tv })
}
