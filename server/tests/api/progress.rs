//! The group's progress reaches Plex as one player on the owner's account: a timeline report on
//! each change of state and on the period between, the item marked watched once past its final
//! credits (90 %), and `stopped` at the end, never past the item's length. Plex here is the fake,
//! which records every call.

use std::time::Duration;

use marquee_sync::{Command, Options};

use crate::helpers::viewer::{Viewer, create_session, snapshot};
use crate::helpers::{Mode, TestApp, both_modes, spawn_app_with};

both_modes! {
    spawn_reporting => [
        progress_reaches_plex_as_one_player,
    ],
}

/// Reports every 500 ms (10 s in production), so the cadence shows in seconds.
const EVERY_MS: u64 = 500;

async fn spawn_reporting(mode: Mode) -> TestApp {
    spawn_app_with(mode, |c| c.plex_timeline_ms = EVERY_MS).await
}

/// Polls the session until `pred` holds (or fails after `secs`).
async fn wait_for(
    app: &TestApp,
    id: &str,
    secs: u64,
    what: &str,
    pred: impl Fn(&marquee_sync::Session) -> bool,
) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if pred(&snapshot(app, id).await) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn scrobbles(app: &TestApp, key: &str) -> usize {
    app.plex()
        .requests()
        .iter()
        .filter(|r| {
            r.path().starts_with("/:/scrobble") && r.query_param("key").as_deref() == Some(key)
        })
        .count()
}

async fn progress_reaches_plex_as_one_player(app: TestApp) {
    let (id, host) = create_session(&app, "2110", "Ana").await;
    let base = app.running.url();
    let mut ana = Viewer::join(&base, &id, "Ana", Some(&host)).await;
    wait_for(&app, &id, 10, "the episode described", |s| {
        s.duration() == Some(120.0)
    })
    .await;
    // No automatic next episode: this item must end, stopped.
    ana.ok(Command::SetOptions {
        options: Options {
            autoplay: false,
            skip_intros: false,
        },
    })
    .await;

    ana.ok(Command::Play).await;
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    ana.ok(Command::Pause).await;
    let paused_at = snapshot(&app, &id).await.playback.position;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(
        scrobbles(&app, "2110"),
        0,
        "not watched at {paused_at:.1} s"
    );
    ana.ok(Command::Seek { position: 104.0 }).await;
    ana.ok(Command::Play).await;
    wait_for(&app, &id, 30, "the episode finished", |s| s.ending.finished).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;

    let calls: Vec<_> = app
        .plex()
        .timelines()
        .into_iter()
        .filter(|t| {
            t.rating_key.as_deref() == Some("2110")
                && t.session
                    .as_deref()
                    .is_some_and(|s| s.starts_with("marquee-"))
        })
        .collect();
    let said: Vec<(String, i64)> = calls
        .iter()
        .map(|t| (t.state.clone().unwrap_or_default(), t.time_ms.unwrap_or(-1)))
        .collect();
    let trace = format!("{said:?}");
    assert!(calls.len() >= 8, "too few reports: {trace}");

    // One player: one session identifier and the install's client identifier throughout.
    let players: std::collections::BTreeSet<_> = calls.iter().map(|t| t.session.clone()).collect();
    assert_eq!(players.len(), 1, "{players:?}");
    let clients: std::collections::BTreeSet<_> = calls.iter().map(|t| t.client.clone()).collect();
    assert_eq!(clients.len(), 1, "{clients:?}");
    assert!(clients.iter().all(Option::is_some));
    assert!(
        calls.iter().all(|t| t.duration_ms == Some(120_000)),
        "{trace}"
    );

    // The states, in order: paused at 0, playing, paused where the pause took effect, playing from
    // the seek, stopped at the end, and nothing after.
    assert_eq!(said.first(), Some(&("paused".to_owned(), 0)), "{trace}");
    let last = calls.last().unwrap();
    assert_eq!(
        (last.state.as_deref(), last.time_ms),
        (Some("stopped"), Some(120_000)),
        "{trace}"
    );
    assert_eq!(
        calls
            .iter()
            .filter(|t| t.state.as_deref() == Some("stopped"))
            .count(),
        1,
        "{trace}"
    );
    let pause = said
        .iter()
        .find(|(s, t)| s == "paused" && *t > 0)
        .unwrap_or_else(|| panic!("no pause reported: {trace}"));
    assert!(
        (pause.1 as f64 - paused_at * 1000.0).abs() <= 1.0,
        "paused at {paused_at} s, reported {} ms",
        pause.1
    );
    assert!(
        said.iter().all(|(_, t)| (0..=120_000).contains(t)),
        "never past the end: {trace}"
    );

    // The cadence: while playing, a report every 500 ms (not more often, not much less), and
    // the times they carry advance with the clock.
    let playing: Vec<_> = calls
        .iter()
        .filter(|t| t.state.as_deref() == Some("playing"))
        .collect();
    let mut steady = 0;
    for pair in playing.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at).as_millis() as i64;
        let advanced = pair[1].time_ms.unwrap() - pair[0].time_ms.unwrap();
        if !(0..=2_000).contains(&advanced) {
            continue; // across the seek
        }
        steady += 1;
        assert!(
            (400..=800).contains(&gap),
            "reports {gap} ms apart: {trace}"
        );
        assert!(
            (advanced - gap).abs() <= 150,
            "time advanced {advanced} ms in {gap} ms: {trace}"
        );
    }
    assert!(steady >= 20, "only {steady} steady reports: {trace}");

    // Watched once, when the group passed the final credits (1:48, 90 %).
    assert_eq!(scrobbles(&app, "2110"), 1);
    assert!(snapshot(&app, &id).await.ending.watched);
}
