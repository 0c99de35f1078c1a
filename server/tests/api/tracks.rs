//! Issue 15: each viewer's own audio track and subtitles, through one Plex account.

use marquee_fakes::plex::cues;
use marquee_fakes::plex::keys::{IMAGE_SUBS_MOVIE, MULTI_TRACK_MOVIE};
use marquee_fakes::plex::{Selection, StreamEvent};
use serde_json::Value;

use crate::helpers::{self, Mode, TestApp, both_modes};

async fn spawn(mode: Mode) -> TestApp {
    helpers::spawn_app(mode).await
}

both_modes! {
    spawn => [
        viewers_on_one_plex_account_each_hear_their_own_audio,
        text_subtitles_reach_the_browser_as_webvtt,
        a_picture_subtitle_is_burned_into_its_own_stream,
    ],
}

/// The watch page's server function: how `form` (`key=…&audio=…`) plays.
async fn playback(app: &TestApp, form: &str) -> Value {
    let r = app
        .client
        .post(app.url("/api/playback"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_owned())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    assert!(status.is_success(), "{form}: {status} {body}");
    serde_json::from_str(&body).unwrap()
}

/// Segment `n` of the stream a playback answer names, fetched as its player would.
async fn segment(app: &TestApp, info: &Value, n: usize) -> Vec<u8> {
    let src = info["src"].as_str().unwrap();
    let (status, master) = app.text(src).await;
    assert_eq!(status, 200, "{src}: {master}");
    let variant = master
        .lines()
        .find(|l| !l.starts_with('#') && !l.trim().is_empty())
        .unwrap();
    let base = src.split("start.m3u8").next().unwrap();
    let index = format!("{base}{variant}");
    let (status, media) = app.text(&index).await;
    assert_eq!(status, 200, "{index}: {media}");
    let name = media
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .nth(n)
        .unwrap();
    let dir = index.rsplit_once('/').unwrap().0;
    let r = app.get(&format!("{dir}/{name}")).await;
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap().to_vec()
}

/// Runs ffmpeg on `input` (bytes of a file), returning what it writes to stdout.
async fn ffmpeg_out(input: &[u8], args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.ts");
    std::fs::write(&file, input).unwrap();
    let out = tokio::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(&file)
        .args(args)
        .arg("-")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The pitch of a segment's audio, in Hz, from its zero crossings: the demo's English track
/// is a 440 Hz tone, its French one 990 Hz.
async fn tone_hz(segment: &[u8]) -> f64 {
    let pcm = ffmpeg_out(
        segment,
        &["-map", "0:a:0", "-f", "s16le", "-ac", "1", "-ar", "48000"],
    )
    .await;
    let samples: Vec<i16> = pcm
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    // Skip the encoder's first and last frames.
    let body = &samples[2048..samples.len().saturating_sub(2048)];
    let crossings = body.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    crossings as f64 / 2.0 / (body.len() as f64 / 48_000.0)
}

fn near(hz: f64, want: f64) -> bool {
    (hz - want).abs() < want * 0.05
}

fn stream_id(info: &Value, list: &str, language: &str, pred: impl Fn(&Value) -> bool) -> i64 {
    info[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["language"] == language && pred(t))
        .unwrap_or_else(|| panic!("no {language} track in {list}: {info}"))["id"]
        .as_i64()
        .unwrap()
}

async fn viewers_on_one_plex_account_each_hear_their_own_audio(app: TestApp) {
    let plex = app.plex();
    let default = playback(&app, &format!("key={MULTI_TRACK_MOVIE}")).await;
    assert_eq!(
        default["mode"], "Direct",
        "the default track plays the file"
    );
    let french = stream_id(&default, "audio_tracks", "fra", |_| true);
    let english = stream_id(&default, "audio_tracks", "eng", |_| true);
    assert_eq!(default["audio"], english);

    // Two viewers at each of three qualities, every pair starting at the same moment: the one
    // Plex account's stream choice is set and read for one transcode at a time.
    let mut pairs = Vec::new();
    for quality in [4000, 2000, 1000] {
        let a = playback(&app, &format!("key={MULTI_TRACK_MOVIE}&quality={quality}")).await;
        let b = playback(
            &app,
            &format!("key={MULTI_TRACK_MOVIE}&quality={quality}&audio=fra"),
        )
        .await;
        assert_eq!(b["mode"], "Hls");
        assert_eq!(b["audio"], french);
        let (sa, sb) = tokio::join!(segment(&app, &a, 1), segment(&app, &b, 1));
        pairs.push((quality, sa, sb));
        // Done with them (one person may run only a few at once).
        for stop in [&a["stop_url"], &b["stop_url"]] {
            let r = app
                .client
                .post(app.url(stop.as_str().unwrap()))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 204);
        }
    }
    for (quality, a, b) in pairs {
        let (ha, hb) = (tone_hz(&a).await, tone_hz(&b).await);
        assert!(
            near(ha, 440.0),
            "{quality} kbps, English viewer heard {ha:.0} Hz"
        );
        assert!(
            near(hb, 990.0),
            "{quality} kbps, French viewer heard {hb:.0} Hz"
        );
    }

    // What Plex saw, in order: each start right after its own choice.
    let events = plex.stream_events();
    let starts: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, StreamEvent::Decided { what: "start", .. }))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(starts.len(), 6, "{events:#?}");
    for i in starts {
        let (StreamEvent::Selected { selection, .. }, StreamEvent::Decided { audio, .. }) =
            (&events[i - 1], &events[i])
        else {
            panic!("a start without its choice just before it: {events:#?}");
        };
        assert_eq!(
            *selection,
            Selection {
                audio: *audio,
                subtitle: None
            },
            "{events:#?}"
        );
    }
}

async fn text_subtitles_reach_the_browser_as_webvtt(app: TestApp) {
    let plex = app.plex();
    let info = playback(&app, &format!("key={MULTI_TRACK_MOVIE}")).await;
    let subs = info["subtitle_tracks"].as_array().unwrap();
    assert_eq!(subs.len(), 4, "{info}");
    let url = |language: &str, forced: bool| {
        subs.iter()
            .find(|t| t["language"] == language && t["forced"] == forced)
            .and_then(|t| t["url"].as_str())
            .unwrap()
            .to_owned()
    };
    let (start, end) = cues::span(2);
    let timing = format!("00:00:{start:06.3} --> 00:00:{end:06.3}");

    // Embedded English: Plex hands it over through its transcoder, once for everyone.
    let embedded = url("eng", false);
    for _ in 0..3 {
        let r = app.get(&embedded).await;
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/vtt")
        );
        let vtt = r.text().await.unwrap();
        assert!(vtt.starts_with("WEBVTT\n"), "{vtt}");
        assert!(
            vtt.contains(&format!("{timing}\n{}\n", cues::english(2))),
            "{vtt}"
        );
    }
    assert_eq!(
        plex.request_count("/video/:/transcode/universal/subtitles"),
        1
    );
    assert!(
        plex.stream_events().iter().any(|e| matches!(
            e,
            StreamEvent::Decided {
                what: "subtitles",
                subtitle: Some(_),
                ..
            }
        )),
        "the embedded stream was selected before it was asked for"
    );

    // The French SRT sidecar and the styled Spanish ASS.
    let (status, srt) = app.text(&url("fra", false)).await;
    assert_eq!(status, 200);
    assert!(
        srt.contains(&format!("{timing}\n{}\n", cues::french(2))),
        "{srt}"
    );
    let (status, ass) = app.text(&url("spa", false)).await;
    assert_eq!(status, 200);
    let (s0, e0) = cues::span(0);
    assert!(
        ass.contains(&format!(
            "00:00:{s0:06.3} --> 00:00:{e0:06.3}\n<b>Línea</b> española 1\n"
        )),
        "bold kept, colours dropped: {ass}"
    );
    assert!(
        ass.contains(&format!("{timing} line:0\n")),
        "the top style's lines sit at the top: {ass}"
    );
    let (status, forced) = app.text(&url("eng", true)).await;
    assert_eq!(status, 200);
    assert!(forced.contains("SIGN 1") && !forced.contains("English line"));

    // A picture track has no WebVTT, and the route takes only signed URLs.
    let image = playback(&app, &format!("key={IMAGE_SUBS_MOVIE}")).await;
    let pgs = &image["subtitle_tracks"][0];
    assert_eq!(pgs["image"], true);
    assert!(pgs["url"].is_null());
    let id = pgs["id"].as_i64().unwrap();
    let r = app
        .get(&app.signed(&format!("/subs/{IMAGE_SUBS_MOVIE}/0/{id}.vtt")))
        .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("burn"), "{body}");
    let r = app
        .get(&format!("/subs/{MULTI_TRACK_MOVIE}/0/10715.vtt"))
        .await;
    assert_eq!(r.status(), 403, "an unsigned subtitle URL is refused");
    let r = app
        .get(&app.signed(&format!("/subs/{MULTI_TRACK_MOVIE}/0/99.vtt")))
        .await;
    assert_eq!(r.status(), 404);
}

/// Mean brightness difference of two 640x360 grey frames, in the top and bottom quarters.
fn quarter_differences(a: &[u8], b: &[u8]) -> (f64, f64) {
    let row = 640;
    let rows = a.len() / row;
    let diff = |from: usize, to: usize| {
        let (s, e) = (from * row, to * row);
        let total: u64 = a[s..e]
            .iter()
            .zip(&b[s..e])
            .map(|(x, y)| u64::from(x.abs_diff(*y)))
            .sum();
        total as f64 / (e - s) as f64
    };
    (diff(0, rows / 4), diff(rows * 3 / 4, rows))
}

async fn a_picture_subtitle_is_burned_into_its_own_stream(app: TestApp) {
    let plex = app.plex();
    let info = playback(&app, &format!("key={IMAGE_SUBS_MOVIE}")).await;
    assert_eq!(info["mode"], "Direct", "no subtitles: the file plays");
    let pgs = stream_id(&info, "subtitle_tracks", "eng", |t| t["image"] == true);

    let plain = playback(&app, &format!("key={IMAGE_SUBS_MOVIE}&quality=1000")).await;
    let burned = playback(
        &app,
        &format!("key={IMAGE_SUBS_MOVIE}&quality=1000&burn=eng"),
    )
    .await;
    assert_eq!(burned["mode"], "Hls");
    assert_eq!(burned["burned"], pgs);
    assert!(
        burned["src"]
            .as_str()
            .unwrap()
            .contains(&format!("quality=q1000-s{pgs}")),
        "{burned}"
    );
    let (a, b) = tokio::join!(segment(&app, &plain, 0), segment(&app, &burned, 0));

    // Plex was asked to burn that stream, with the account's choice set to it first.
    let start = plex
        .requests()
        .into_iter()
        .filter(|r| r.path().ends_with("/start.m3u8"))
        .find(|r| r.query_param("subtitles").as_deref() == Some("burn"))
        .expect("a start asking to burn");
    assert_eq!(start.query_param("subtitleStreamID"), Some(pgs.to_string()));
    assert!(plex.stream_events().iter().any(|e| matches!(
        e,
        StreamEvent::Decided { what: "start", subtitle: Some(s), subtitles: Some(mode), .. }
            if *s == pgs && mode == "burn"
    )));

    // A second viewer who picks the same subtitle joins that stream: no second transcode.
    let starts = plex.request_count("/video/:/transcode/universal/start.m3u8");
    let again = playback(
        &app,
        &format!("key={IMAGE_SUBS_MOVIE}&quality=1000&burn={pgs}"),
    )
    .await;
    assert_eq!(
        again["src"].as_str().unwrap().split("quality=").nth(1),
        burned["src"].as_str().unwrap().split("quality=").nth(1)
    );
    let shared = segment(&app, &again, 0).await;
    assert_eq!(
        plex.request_count("/video/:/transcode/universal/start.m3u8"),
        starts,
        "the burned-in stream is shared"
    );
    assert!(shared == b, "the same segment for both viewers");

    // And the picture has it: at 2 s (the first cue), the burned stream differs from the plain
    // one at the bottom, where subtitles are, and hardly at the top.
    let frame = |ts: Vec<u8>| async move {
        ffmpeg_out(
            &ts,
            &[
                "-ss",
                "2",
                "-frames:v",
                "1",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "gray",
            ],
        )
        .await
    };
    let (fa, fb) = (frame(a).await, frame(b).await);
    assert_eq!(fa.len(), 640 * 360);
    let (top, bottom) = quarter_differences(&fa, &fb);
    assert!(
        bottom > 3.0 * top + 2.0,
        "burned-in text at the bottom: top differs by {top:.2}, bottom by {bottom:.2}"
    );

    // Text subtitles are the browser's to draw: not burned.
    let text_sub = playback(&app, &format!("key={MULTI_TRACK_MOVIE}")).await;
    let srt = stream_id(&text_sub, "subtitle_tracks", "fra", |_| true);
    let r = app
        .client
        .post(app.url("/api/playback"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("key={MULTI_TRACK_MOVIE}&burn={srt}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("the player draws it"));
}
