//! Issue 14: Marquee talks to Plex's transcoder as one well-behaved player.

use std::time::{Duration, Instant};

use marquee_fakes::plex::{FakePlex, FakePlexOptions, TimelineCall, TranscodeRules};

use crate::helpers::{self, TestApp};

/// Plex's keep-alive rules scaled down 60 times: a transcode is throttled after 0.5 s and
/// stopped after 1.5 s without a timeline (a real server: about 30 s and 90 s).
async fn strict_plex() -> FakePlex {
    helpers::start_fake_plex_with(FakePlexOptions {
        large_section_items: 10,
        transcodes: TranscodeRules {
            throttle_after: Duration::from_millis(500),
            stop_after: Duration::from_millis(1500),
            streams_per_client: Some(2),
        },
        ..FakePlexOptions::default()
    })
    .await
}

/// Marquee on `plex`, reporting every 250 ms (its 10 s, at the same scale).
async fn marquee_on(plex: &FakePlex) -> TestApp {
    helpers::spawn_with_plex_and(plex, None, None, |c| {
        c.plex_timeline_ms = 250;
        c.transcode_idle_secs = 5;
    })
    .await
}

async fn post(app: &TestApp, path: &str) -> u16 {
    app.client
        .post(app.url(path))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn of_session<'a>(calls: &'a [TimelineCall], session: &str) -> Vec<&'a TimelineCall> {
    calls
        .iter()
        .filter(|c| c.session.as_deref() == Some(session))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transcode_lives_through_play_only_with_marquee_reporting() {
    let plex = strict_plex().await;
    let http = reqwest::Client::new();
    let get = |path: String| {
        http.get(format!("{}{path}", plex.base_url()))
            .header("X-Plex-Token", plex.token())
            .header("X-Plex-Client-Identifier", "a-bare-player")
            .send()
    };

    // A player that fetches segments but never reports: Plex stops its transcode.
    let start = "/video/:/transcode/universal/start.m3u8?path=%2Flibrary%2Fmetadata%2F102&mediaIndex=0&session=bare&offset=0";
    assert_eq!(get(start.into()).await.unwrap().status(), 200);
    let began = Instant::now();
    let mut n = 0;
    while plex
        .active_transcode_sessions()
        .contains(&"bare".to_string())
    {
        assert!(began.elapsed() < Duration::from_secs(5), "never stopped");
        let _ = get(format!(
            "/video/:/transcode/universal/session/bare/base/{n:05}.ts"
        ))
        .await;
        n += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(began.elapsed() >= Duration::from_millis(1400));

    // Through Marquee: five minutes of play at the same scale (5 s): playing, a pause
    // longer than Plex's limit, a seek, playing on, and the player leaving.
    let app = marquee_on(&plex).await;
    let (token, start) = app.transcode("102", 0);
    assert_eq!(app.get(&start).await.status(), 200);
    let running = plex.active_transcode_sessions();
    assert_eq!(running.len(), 1, "{running:?}");
    let session = running[0].clone();
    let report =
        |state: &str, ms: i64| format!("/hls/102/0/timeline/{token}/base?state={state}&time={ms}");
    assert_eq!(
        app.text(&format!("/hls/102/0/session/{token}/base/index.m3u8"))
            .await
            .0,
        200
    );
    let began = Instant::now();
    let alive = || plex.active_transcode_sessions().contains(&session);
    let mut segment = 0;
    let mut paused_at = None;
    let mut sought = false;
    while began.elapsed() < Duration::from_secs(5) {
        let t = began.elapsed().as_millis() as i64;
        let phase = match t {
            0..1500 => "playing",
            1500..3500 => "paused",
            _ => "playing",
        };
        match phase {
            "paused" if paused_at.is_none() => {
                assert_eq!(post(&app, &report("paused", 1500)).await, 204);
                paused_at = Some(1500);
            }
            "paused" => {}
            _ if t >= 3500 && !sought => {
                assert_eq!(post(&app, &report("playing", 90_000)).await, 204);
                sought = true;
            }
            _ => {
                let ms = if sought { 90_000 + t - 3500 } else { t };
                assert_eq!(post(&app, &report("playing", ms)).await, 204);
                if !sought {
                    let seg = app
                        .get(&format!("/hls/102/0/session/{token}/base/{segment}.ts"))
                        .await;
                    assert_eq!(seg.status(), 200, "segment {segment}");
                    segment += 1;
                }
            }
        }
        assert!(alive(), "Plex stopped the transcode at {t} ms");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(
        post(&app, &format!("/hls/102/0/stop/{token}/base")).await,
        204
    );
    assert!(!alive(), "the last viewer leaving stops it");

    let calls = plex.timelines();
    let mine = of_session(&calls, &session);
    assert!(mine.len() >= 15, "{} reports", mine.len());
    let client = mine[0].client.clone().expect("a client identifier");
    assert!(
        mine.iter().all(|c| c.client.as_ref() == Some(&client)),
        "one client"
    );
    assert!(mine.iter().all(|c| c.rating_key.as_deref() == Some("102")));
    assert!(mine.iter().all(|c| c.duration_ms == Some(120_000)));
    let states: Vec<&str> = mine.iter().filter_map(|c| c.state.as_deref()).collect();
    assert_eq!(states.first(), Some(&"buffering"), "{states:?}");
    assert_eq!(states.last(), Some(&"stopped"), "{states:?}");
    for window in mine.windows(2) {
        let gap = window[1].at.duration_since(window[0].at);
        assert!(
            gap < Duration::from_millis(700),
            "a {gap:?} gap in the reports"
        );
    }
    let paused: Vec<i64> = mine
        .iter()
        .filter(|c| c.state.as_deref() == Some("paused"))
        .filter_map(|c| c.time_ms)
        .collect();
    assert!(
        paused.len() >= 4,
        "paused is reported on the period too: {paused:?}"
    );
    assert!(paused.iter().all(|t| *t == 1500), "{paused:?}");
    let after_seek: Vec<i64> = mine
        .iter()
        .filter(|c| c.state.as_deref() == Some("playing"))
        .filter_map(|c| c.time_ms)
        .filter(|t| *t >= 90_000)
        .collect();
    assert!(!after_seek.is_empty(), "the seek reached Plex");
    assert!(
        after_seek.windows(2).all(|w| w[1] >= w[0]),
        "{after_seek:?}"
    );
    assert!(
        after_seek.iter().all(|t| *t < 90_000 + 2500),
        "{after_seek:?}"
    );
    let before: Vec<i64> = mine
        .iter()
        .filter(|c| c.state.as_deref() == Some("playing"))
        .filter_map(|c| c.time_ms)
        .filter(|t| *t < 90_000)
        .collect();
    assert!(before.iter().all(|t| *t <= 1800), "{before:?}");
}

/// When Plex ends the stream (here: the owner ended it... or, as the fake does, because it
/// heard nothing), viewers get Plex's reason, not a spinner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_see_why_plex_ended_their_stream() {
    let plex = strict_plex().await;
    // A Marquee that reports too rarely for this Plex: its transcode gets stopped.
    let app = helpers::spawn_with_plex_and(&plex, None, None, |c| {
        c.plex_timeline_ms = 4000;
        c.transcode_idle_secs = 30;
    })
    .await;
    let (token, start) = app.transcode("102", 0);
    assert_eq!(app.get(&start).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert!(plex.active_transcode_sessions().is_empty());
    // The next report tells Plex the player is there; Plex answers that it ended it.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = app
            .client
            .post(app.url(&format!(
                "/hls/102/0/timeline/{token}/base?state=paused&time=0"
            )))
            .send()
            .await
            .unwrap();
        if r.status() == 410 {
            let body: serde_json::Value = r.json().await.unwrap();
            let message = body["message"].as_str().unwrap();
            assert!(message.contains("stopped reporting playback"), "{message}");
            break;
        }
        assert_eq!(r.status(), 204);
        assert!(Instant::now() < deadline, "never told");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let segment = app
        .get(&format!("/hls/102/0/session/{token}/base/0.ts"))
        .await;
    assert_eq!(segment.status(), 410);
}
