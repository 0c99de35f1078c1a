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
        c.plex_client_id = Some("marquee-install-1".into());
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
    // A segment Plex no longer has: Marquee asks Plex (a timeline) before starting anything
    // again, and Plex answers that it ended the stream.
    let r = app
        .get(&format!("/hls/102/0/session/{token}/base/2.ts"))
        .await;
    assert_eq!(r.status(), 410);
    let body: serde_json::Value = r.json().await.unwrap();
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("stopped reporting playback"), "{message}");
    assert_eq!(
        plex.request_count("/video/:/transcode/universal/start.m3u8"),
        1,
        "a stream Plex ended is not started again behind its back"
    );
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

/// The first packet's time (s) in an MPEG-TS segment, read by ffprobe.
fn first_pts(ts: &[u8]) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("segment.ts");
    std::fs::write(&path, ts).unwrap();
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args([
            "packet=pts_time",
            "-read_intervals",
            "%+#1",
            "-of",
            "csv=p=0",
        ])
        .arg(&path)
        .output()
        .expect("ffprobe (part of ffmpeg)");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.trim().trim_end_matches(',').parse().ok())
        .unwrap_or_else(|| panic!("no packet time in {text:?}"))
}

/// A seek far past what the transcode has made moves the Plex transcode there (one new Plex
/// session at that offset, the old one stopped) instead of waiting for it; the segment's
/// timestamps are the item's time, so a player's clock means the same in every rendition.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_far_seek_re_targets_the_transcode_and_keeps_item_time() {
    use marquee_fakes::plex::keys::LONG_MOVIE;
    const START: &str = "/video/:/transcode/universal/start.m3u8";
    let plex = helpers::start_fake_plex_with(FakePlexOptions {
        large_section_items: 10,
        ..FakePlexOptions::default()
    })
    .await;
    let app = helpers::spawn_with_plex(&plex, None, None).await;
    let (token, start) = app.transcode(LONG_MOVIE, 0);
    assert_eq!(app.get(&start).await.status(), 200);
    let segment = |n: usize| {
        let path = format!("/hls/{LONG_MOVIE}/0/session/{token}/base/{n}.ts");
        let app = &app;
        async move {
            let r = app.get(&path).await;
            assert_eq!(r.status(), 200, "segment {n}");
            r.bytes().await.unwrap()
        }
    };
    let first = segment(0).await;
    assert!(first_pts(&first) < 1.0 + 1.5);
    segment(1).await;
    assert_eq!(plex.request_count(START), 1);

    // 90 % of ten minutes: segment 135 (540 s).
    let asked = Instant::now();
    let far = segment(135).await;
    let took = asked.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "the far segment took {took:?}"
    );
    let pts = first_pts(&far);
    assert!(
        (540.0..541.5).contains(&pts),
        "segment 135 starts at {pts} s"
    );
    assert_eq!(
        plex.request_count(START),
        2,
        "one new transcode for the seek"
    );
    let starts: Vec<String> = plex
        .requests()
        .into_iter()
        .filter(|r| r.path() == START)
        .filter_map(|r| r.query_param("offset"))
        .collect();
    assert_eq!(starts, ["0.000", "540.000"]);
    assert!(
        plex.requests()
            .iter()
            .filter(|r| r.path() == START)
            .all(|r| r.query_param("directStream").as_deref() == Some("0")),
        "a re-encode, not a remux"
    );
    assert_eq!(
        plex.active_transcode_sessions().len(),
        1,
        "the old one was stopped"
    );
    // Playing on from there needs no new transcode; what was fetched before stays cached.
    segment(136).await;
    segment(1).await;
    assert_eq!(plex.request_count(START), 2);
}

/// Five viewers of one file cost Plex's uplink about one file: the direct-play chunks and
/// the HLS segments are each fetched from Plex once, and five HLS viewers share one transcode.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_viewers_pull_one_copy_from_plex() {
    use marquee_fakes::plex::keys::LONG_MOVIE;
    const START: &str = "/video/:/transcode/universal/start.m3u8";
    let plex = helpers::start_fake_plex_with(FakePlexOptions {
        large_section_items: 10,
        transcodes: TranscodeRules {
            streams_per_client: Some(1),
            ..TranscodeRules::default()
        },
        ..FakePlexOptions::default()
    })
    .await;
    let app = helpers::spawn_with_plex(&plex, None, None).await;

    // Direct play: five whole reads at once, and five reads of one range.
    let file = std::fs::read(helpers::media().await.long_mp4).unwrap();
    let before = plex.bytes_sent();
    let url = app.signed(&format!("/media/{LONG_MOVIE}/0/0"));
    let reads = (0..5).map(|_| {
        let app = &app;
        let url = url.clone();
        async move { app.get(&url).await.bytes().await.unwrap() }
    });
    for body in futures::future::join_all(reads).await {
        assert_eq!(body.len(), file.len());
        assert!(body == file[..], "every viewer gets the file's exact bytes");
    }
    let ranges = (0..5).map(|_| {
        let app = &app;
        let url = url.clone();
        async move {
            let r = app
                .client
                .get(app.url(&url))
                .header("range", "bytes=5000000-5999999")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 206);
            r.bytes().await.unwrap()
        }
    });
    for body in futures::future::join_all(ranges).await {
        assert!(body == file[5_000_000..6_000_000]);
    }
    let pulled = plex.bytes_sent() - before;
    let ratio = pulled as f64 / file.len() as f64;
    assert!(
        ratio <= 1.05,
        "five direct viewers pulled {ratio:.2}× the file from Plex"
    );

    // HLS: five viewers, each with its own token, read the same segments.
    let viewers: Vec<(String, String)> = (0..5).map(|_| app.transcode(LONG_MOVIE, 0)).collect();
    for (_, start) in &viewers {
        assert_eq!(app.get(start).await.status(), 200);
    }
    assert_eq!(plex.request_count(START), 1, "one Plex transcode for five");
    let before = plex.bytes_sent();
    let mut one_viewer = 0;
    for n in 0..6 {
        let fetches = viewers.iter().map(|(token, _)| {
            let path = format!("/hls/{LONG_MOVIE}/0/session/{token}/base/{n}.ts");
            let app = &app;
            async move {
                let r = app.get(&path).await;
                assert_eq!(r.status(), 200);
                r.bytes().await.unwrap()
            }
        });
        let bodies = futures::future::join_all(fetches).await;
        assert!(
            bodies.windows(2).all(|w| w[0] == w[1]),
            "one segment {n} for all"
        );
        one_viewer += bodies[0].len() as u64;
    }
    let pulled = plex.bytes_sent() - before;
    let ratio = pulled as f64 / one_viewer as f64;
    assert!(
        ratio <= 1.05,
        "five HLS viewers pulled {ratio:.2}× one viewer's segments"
    );
    assert_eq!(plex.active_transcode_sessions().len(), 1);
}
