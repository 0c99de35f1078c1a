//! Checks that the fake behaves like the real server where clients depend on it.
#![allow(clippy::unwrap_used)]

use marquee_fakes::plex::{FakePlex, FakePlexOptions, default_media_dir, ensure_media};

async fn start() -> FakePlex {
    let media = ensure_media(&default_media_dir()).await.unwrap();
    FakePlex::start(
        media,
        FakePlexOptions {
            large_section_items: 450,
            ..FakePlexOptions::default()
        },
    )
    .await
    .unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

#[tokio::test(flavor = "multi_thread")]
async fn identity_is_public_and_everything_else_needs_the_token() {
    let plex = start().await;
    let base = plex.base_url();
    let r = client()
        .get(format!("{base}/identity"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    for path in [
        "/library/sections",
        "/library/metadata/101",
        "/hubs/search?query=a",
    ] {
        let r = client().get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path} without token");
        let r = client()
            .get(format!("{base}{path}"))
            .header("X-Plex-Token", "wrong")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{path} with a wrong token");
    }
    let r = client()
        .get(format!(
            "{base}/library/sections?X-Plex-Token={}",
            plex.token()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "token as query parameter");
    let r = client()
        .get(format!("{base}/library/metadata/999999"))
        .header("X-Plex-Token", plex.token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    plex.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn paging_via_headers_and_query_params() {
    let plex = start().await;
    let base = plex.base_url();
    let r = client()
        .get(format!("{base}/library/sections/3/all"))
        .header("X-Plex-Token", plex.token())
        .header("Accept", "application/json")
        .header("X-Plex-Container-Start", "400")
        .header("X-Plex-Container-Size", "100")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["X-Plex-Container-Start"], "400");
    assert_eq!(r.headers()["X-Plex-Container-Total-Size"], "450");
    let body: serde_json::Value = r.json().await.unwrap();
    let mc = &body["MediaContainer"];
    assert_eq!(mc["size"], 50);
    assert_eq!(mc["totalSize"], 450);
    assert_eq!(mc["offset"], 400);
    assert_eq!(mc["Metadata"].as_array().unwrap().len(), 50);

    // Past the end: an empty page has no Metadata key at all.
    let r = client()
        .get(format!(
            "{base}/library/sections/3/all?X-Plex-Container-Start=450&X-Plex-Container-Size=10"
        ))
        .header("X-Plex-Token", plex.token())
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["MediaContainer"]["size"], 0);
    assert!(body["MediaContainer"].get("Metadata").is_none());
    plex.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn xml_without_json_accept() {
    let plex = start().await;
    let r = client()
        .get(format!("{}/library/metadata/101", plex.base_url()))
        .header("X-Plex-Token", plex.token())
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml")
    );
    let text = r.text().await.unwrap();
    assert!(text.contains("<MediaContainer"), "{text}");
    assert!(text.contains("<Video "), "{text}");
    assert!(text.contains("ratingKey=\"101\""), "{text}");
    assert_eq!(text.matches("<Media ").count(), 2, "{text}");
    plex.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn part_supports_range_requests() {
    let plex = start().await;
    let media = ensure_media(&default_media_dir()).await.unwrap();
    let file = std::fs::read(&media.h264_mp4).unwrap();
    let url = format!("{}/library/parts/1011/1700000101/file.mp4", plex.base_url());
    let r = client()
        .get(&url)
        .header("X-Plex-Token", plex.token())
        .header("Range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["accept-ranges"], "bytes");
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 100-199/{}", file.len()).as_str()
    );
    assert_eq!(r.headers()["content-type"], "video/mp4");
    let body = r.bytes().await.unwrap();
    assert_eq!(&body[..], &file[100..200]);

    let r = client()
        .get(&url)
        .header("X-Plex-Token", plex.token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().len(), file.len());
    plex.shutdown().await;
}

/// A GET to the fake as a player with the client identifier `client`.
async fn plex_get(plex: &FakePlex, client_id: &str, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", plex.base_url()))
        .header("X-Plex-Token", plex.token())
        .header("X-Plex-Client-Identifier", client_id)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
}

fn start_path(rating_key: &str, session: &str, offset: f64) -> String {
    format!(
        "/video/:/transcode/universal/start.m3u8?path=%2Flibrary%2Fmetadata%2F{rating_key}&mediaIndex=0&session={session}&offset={offset}"
    )
}

fn segment_path(session: &str, n: u32) -> String {
    format!("/video/:/transcode/universal/session/{session}/base/{n:05}.ts")
}

#[tokio::test(flavor = "multi_thread")]
async fn hls_needs_a_started_session() {
    let plex = start().await;
    let r = plex_get(
        &plex,
        "c1",
        "/video/:/transcode/universal/session/s1/base/index.m3u8",
    )
    .await;
    assert_eq!(r.status(), 404, "unknown session");
    let r = plex_get(
        &plex,
        "c1",
        "/video/:/transcode/universal/start.m3u8?path=%2Flibrary%2Fmetadata%2F102",
    )
    .await;
    assert_eq!(r.status(), 400, "session is required");
    let r = plex_get(&plex, "c1", &start_path("102", "s1", 0.0)).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("\nsession/s1/base/index.m3u8\n")
    );
    let r = plex_get(&plex, "c1", &segment_path("s1", 0)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "video/mp2t");
    let ts = r.bytes().await.unwrap();
    assert_eq!(ts[0], 0x47, "MPEG-TS sync byte");
    assert_eq!(plex.active_transcode_sessions(), vec!["s1".to_string()]);
    plex_get(&plex, "c1", "/video/:/transcode/universal/stop?session=s1").await;
    assert!(plex.active_transcode_sessions().is_empty());
    let r = plex_get(&plex, "c1", &segment_path("s1", 1)).await;
    assert_eq!(r.status(), 404, "a stopped session has no files");
    plex.shutdown().await;
}

/// The playlist spans the whole item, but a transcode has only what it made from its offset
/// on: a player that wants to jump must start again there.
#[tokio::test(flavor = "multi_thread")]
async fn a_transcode_starts_at_its_offset_and_lists_the_whole_item() {
    use marquee_fakes::plex::{LONG_MILLIS, SEGMENT_SECONDS, keys};
    let plex = start().await;
    let r = plex_get(&plex, "c1", &start_path(keys::LONG_MOVIE, "s2", 300.0)).await;
    assert_eq!(r.status(), 200);
    let index = plex_get(
        &plex,
        "c1",
        "/video/:/transcode/universal/session/s2/base/index.m3u8",
    )
    .await
    .text()
    .await
    .unwrap();
    let segments = index.lines().filter(|l| l.ends_with(".ts")).count();
    assert_eq!(
        segments as i64,
        LONG_MILLIS / 1000 / i64::from(SEGMENT_SECONDS),
        "{index}"
    );
    assert!(index.contains("#EXT-X-ENDLIST"));
    let at = 300 / SEGMENT_SECONDS;
    let r = plex_get(&plex, "c1", &segment_path("s2", at)).await;
    assert_eq!(r.status(), 200, "the segment at the offset");
    let before = plex_get(&plex, "c1", &segment_path("s2", at - 1)).await;
    assert_eq!(before.status(), 404, "nothing before the offset");
    plex.shutdown().await;
}

/// Plex keeps a transcode only for a player that reports: without `/:/timeline` it is
/// stopped, and the next timeline says why. One client identifier may run a few at once.
#[tokio::test(flavor = "multi_thread")]
async fn a_transcode_without_timelines_is_stopped_and_streams_per_client_are_capped() {
    use marquee_fakes::plex::TranscodeRules;
    use std::time::Duration;
    let media = ensure_media(&default_media_dir()).await.unwrap();
    let plex = FakePlex::start(
        media,
        FakePlexOptions {
            large_section_items: 10,
            transcodes: TranscodeRules {
                throttle_after: Duration::from_millis(300),
                stop_after: Duration::from_millis(1200),
                streams_per_client: Some(2),
            },
            ..FakePlexOptions::default()
        },
    )
    .await
    .unwrap();
    for s in ["kept", "dropped"] {
        assert_eq!(
            plex_get(&plex, "c1", &start_path("102", s, 0.0))
                .await
                .status(),
            200
        );
    }
    let third = plex_get(&plex, "c1", &start_path("101", "third", 0.0)).await;
    assert_eq!(third.status(), 400, "a third stream for one client");
    let other = plex_get(&plex, "c2", &start_path("101", "other", 0.0)).await;
    assert_eq!(other.status(), 200, "another client has its own streams");

    let timeline = |session: &str, state: &str, time: u64| {
        format!(
            "/:/timeline?ratingKey=102&key=%2Flibrary%2Fmetadata%2F102&state={state}&time={time}&duration=120000&X-Plex-Session-Identifier={session}"
        )
    };
    for i in 0..8u64 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let r = plex_get(&plex, "c1", &timeline("kept", "playing", i * 250)).await;
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(
            body["MediaContainer"]["terminationCode"].is_null(),
            "{body}"
        );
        // Fetching segments is not reporting.
        let _ = plex_get(&plex, "c1", &segment_path("dropped", 0)).await;
    }
    let active = plex.active_transcode_sessions();
    assert!(active.contains(&"kept".to_string()), "{active:?}");
    assert!(!active.contains(&"dropped".to_string()), "{active:?}");
    assert_eq!(
        plex_get(&plex, "c1", &segment_path("dropped", 0))
            .await
            .status(),
        404
    );
    let body: serde_json::Value = plex_get(&plex, "c1", &timeline("dropped", "playing", 0))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        body["MediaContainer"]["terminationCode"].is_number(),
        "{body}"
    );
    assert!(
        body["MediaContainer"]["terminationText"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    // `stopped` ends a session at its player's word.
    plex_get(&plex, "c1", &timeline("kept", "stopped", 2000)).await;
    assert!(
        !plex
            .active_transcode_sessions()
            .contains(&"kept".to_string())
    );
    let calls = plex.timelines();
    assert!(calls.iter().any(|c| c.session.as_deref() == Some("kept")
        && c.state.as_deref() == Some("playing")
        && c.time_ms == Some(1750)
        && c.duration_ms == Some(120_000)));
    plex.shutdown().await;
}

/// Streams as Plex lists them; sidecars served at their key, embedded ones not (501); the
/// account's choice kept on the Part and shown as `selected`.
#[tokio::test(flavor = "multi_thread")]
async fn streams_are_listed_served_and_chosen_as_plex_does() {
    use marquee_fakes::plex::keys::{IMAGE_SUBS_MOVIE, MULTI_TRACK_MOVIE};
    let plex = start().await;
    let base = plex.base_url();
    let get = |path: String| {
        client()
            .get(format!("{base}{path}"))
            .header("X-Plex-Token", plex.token())
            .header("Accept", "application/json")
            .send()
    };
    let streams = |v: &serde_json::Value| {
        v["MediaContainer"]["Metadata"][0]["Media"][0]["Part"][0]["Stream"]
            .as_array()
            .unwrap()
            .clone()
    };
    let meta: serde_json::Value = get(format!("/library/metadata/{MULTI_TRACK_MOVIE}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let all = streams(&meta);
    let kinds: Vec<i64> = all
        .iter()
        .map(|s| s["streamType"].as_i64().unwrap())
        .collect();
    assert_eq!(kinds, [1, 2, 2, 3, 3, 3, 3]);
    let audio: Vec<&serde_json::Value> = all.iter().filter(|s| s["streamType"] == 2).collect();
    assert_eq!(audio[0]["languageCode"], "eng");
    assert_eq!(audio[0]["default"], true);
    assert_eq!(audio[0]["selected"], true);
    assert_eq!(audio[1]["languageCode"], "fra");
    assert_eq!(audio[1]["title"], "Doublage français");
    let subs: Vec<&serde_json::Value> = all.iter().filter(|s| s["streamType"] == 3).collect();
    assert!(subs[0].get("key").is_none(), "embedded: no key");
    assert_eq!(subs[1]["codec"], "srt");
    assert_eq!(subs[2]["codec"], "ass");
    assert_eq!(subs[3]["forced"], true);
    for sidecar in &subs[1..] {
        let key = sidecar["key"].as_str().unwrap();
        assert_eq!(key, format!("/library/streams/{}", sidecar["id"]));
        let r = get(key.to_owned()).await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(!r.text().await.unwrap().is_empty());
    }
    let r = get(format!("/library/streams/{}", subs[0]["id"]))
        .await
        .unwrap();
    assert_eq!(r.status(), 501, "Plex serves only sidecars there");

    // The account's choice: audio French, subtitles the embedded English.
    let part = meta["MediaContainer"]["Metadata"][0]["Media"][0]["Part"][0]["id"].clone();
    let put = |query: String| {
        client()
            .put(format!("{base}/library/parts/{part}?{query}"))
            .header("X-Plex-Token", plex.token())
            .send()
    };
    let r = put(format!(
        "audioStreamID={}&subtitleStreamID={}&allParts=1",
        audio[1]["id"], subs[0]["id"]
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let after = streams(
        &get(format!("/library/metadata/{MULTI_TRACK_MOVIE}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    let selected: Vec<i64> = after
        .iter()
        .filter(|s| s["selected"] == true)
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        selected,
        [
            audio[1]["id"].as_i64().unwrap(),
            subs[0]["id"].as_i64().unwrap()
        ]
    );
    // The selected embedded stream comes out of the transcoder as ASS.
    let r = get(format!(
        "/video/:/transcode/universal/subtitles?path=%2Flibrary%2Fmetadata%2F{MULTI_TRACK_MOVIE}&mediaIndex=0&subtitles=sidecar"
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let ass = r.text().await.unwrap();
    assert!(
        ass.contains("[Events]") && ass.contains("English line 3"),
        "{ass}"
    );
    // A stream of another Part, or junk, is refused; subtitles off clears the choice.
    assert_eq!(put("audioStreamID=12".into()).await.unwrap().status(), 400);
    assert_eq!(put("audioStreamID=x".into()).await.unwrap().status(), 400);
    assert_eq!(
        put("subtitleStreamID=0".into()).await.unwrap().status(),
        200
    );
    let r = get(format!(
        "/video/:/transcode/universal/subtitles?path=%2Flibrary%2Fmetadata%2F{MULTI_TRACK_MOVIE}&mediaIndex=0"
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 400, "nothing selected");

    // The picture subtitle is listed as PGS, inside the file.
    let image = streams(
        &get(format!("/library/metadata/{IMAGE_SUBS_MOVIE}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    let pgs = image.iter().find(|s| s["streamType"] == 3).unwrap();
    assert_eq!(pgs["codec"], "pgs");
    assert!(pgs.get("key").is_none());
    plex.shutdown().await;
}
