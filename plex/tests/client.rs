//! The real client against the fake Plex server: every endpoint and error path.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use marquee_fakes::plex::{
    FakePlex, FakePlexOptions, Fault, default_media_dir, ensure_media, keys,
};
use marquee_plex::{
    MetadataType, PlexClient, PlexConfig, PlexError, SectionType, TranscodeRequest,
};
use secrecy::SecretString;

async fn fake() -> FakePlex {
    let media = ensure_media(&default_media_dir()).await.unwrap();
    FakePlex::start(media, FakePlexOptions::default())
        .await
        .unwrap()
}

fn config(base: &str, token: &str) -> PlexConfig {
    let mut cfg = PlexConfig::new(
        base.parse().unwrap(),
        SecretString::from(token.to_string()),
        "marquee-test-client",
    );
    cfg.timeout = Duration::from_secs(5);
    cfg
}

fn client(plex: &FakePlex) -> PlexClient {
    PlexClient::new(config(&plex.base_url(), plex.token())).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn identity_sections_and_metadata() {
    let plex = fake().await;
    let c = client(&plex);

    let id = c.identity().await.unwrap();
    assert!(!id.machine_identifier.is_empty());

    let sections = c.sections().await.unwrap();
    let kinds: Vec<(&str, SectionType)> = sections
        .iter()
        .map(|s| (s.key.as_str(), s.r#type))
        .collect();
    assert_eq!(
        kinds,
        [
            ("1", SectionType::Movie),
            ("2", SectionType::Show),
            ("3", SectionType::Movie)
        ]
    );
    assert!(sections.iter().all(|s| s.updated_at.is_some()));

    let page = c.section_items("1", 0, 50).await.unwrap();
    assert!(page.items.len() >= 5);
    assert_eq!(page.total_size as usize, page.items.len());
    let titles: HashSet<&str> = page.items.iter().map(|m| m.title.as_str()).collect();
    assert_eq!(titles.len(), page.items.len(), "distinct titles");

    let m = c.metadata(keys::TWO_VERSIONS_MOVIE).await.unwrap();
    assert_eq!(m.r#type, MetadataType::Movie);
    assert_eq!(m.media.len(), 2);
    let codecs: Vec<_> = m
        .media
        .iter()
        .map(|x| x.video_codec.clone().unwrap())
        .collect();
    assert_eq!(codecs, ["h264", "hevc"]);
    let part = &m.media[0].parts[0];
    assert!(part.key.starts_with("/library/parts/"));
    assert!(part.size.unwrap() > 0);
    assert_eq!(part.streams.len(), 2);
    assert!(!m.genres.is_empty());
    assert!(m.thumb.is_some());

    // The quirky items parse too.
    let q = c.metadata(keys::STRINGLY_MOVIE).await.unwrap();
    assert_eq!(q.year, Some(2015));
    assert!(q.summary.is_none());
    assert_eq!(q.media[0].parts[0].streams[1].channels, Some(2));
    let n = c.metadata(keys::NO_THUMB_MOVIE).await.unwrap();
    assert!(n.thumb.is_none());

    assert!(matches!(
        c.metadata("999999").await,
        Err(PlexError::NotFound { .. })
    ));
    assert!(matches!(
        c.metadata("../identity").await,
        Err(PlexError::InvalidInput(_))
    ));
    plex.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn show_seasons_episodes_search_and_decks() {
    let plex = fake().await;
    let c = client(&plex);

    let shows = c.section_items("2", 0, 10).await.unwrap();
    assert_eq!(shows.items[0].r#type, MetadataType::Show);
    let seasons = c.children(keys::SHOW).await.unwrap();
    let idx: Vec<_> = seasons
        .iter()
        .map(|s| (s.index, s.title.as_str()))
        .collect();
    assert_eq!(
        idx,
        [
            (Some(0), "Specials"),
            (Some(1), "Season 1"),
            (Some(2), "Season 2")
        ]
    );
    let eps = c.children(&seasons[1].rating_key).await.unwrap();
    assert_eq!(eps.len(), 3);
    for (i, e) in eps.iter().enumerate() {
        assert_eq!(e.r#type, MetadataType::Episode);
        assert_eq!(e.index, Some(i as i64 + 1));
        assert_eq!(e.parent_index, Some(1));
        assert_eq!(e.grandparent_title.as_deref(), Some("Lanterns of Vell"));
        assert_eq!(e.parent_title.as_deref(), Some("Season 1"));
        assert_eq!(e.grandparent_rating_key.as_deref(), Some(keys::SHOW));
    }
    let specials = c.children(keys::SPECIALS).await.unwrap();
    assert!(!specials.is_empty() && specials.len() <= 2);

    let leaves = c.all_leaves(keys::SHOW).await.unwrap();
    assert_eq!(leaves.len(), specials.len() + 6);

    let found = c.search("harbor", 10).await.unwrap();
    assert!(
        found
            .iter()
            .any(|m| m.rating_key == keys::TWO_VERSIONS_MOVIE)
    );
    let found = c.search("LANTERNS", 10).await.unwrap();
    assert!(
        found
            .iter()
            .any(|m| m.rating_key == keys::SHOW && m.r#type == MetadataType::Show)
    );
    assert!(c.search("no such title zzz", 10).await.unwrap().is_empty());

    let cw = c.continue_watching().await.unwrap();
    assert!(!cw.is_empty());
    assert!(cw.iter().all(|m| m.view_offset.unwrap_or(0) > 0));
    plex.shutdown().await;
}

/// Newer servers answer `/library/onDeck` with 404 (the default fake is one); older ones have
/// no continue-watching hub. The client finds the row on both, and says so when neither has it.
#[tokio::test(flavor = "multi_thread")]
async fn continue_watching_on_newer_and_older_servers() {
    let media = ensure_media(&default_media_dir()).await.unwrap();
    for (on_deck, continue_hub) in [(false, true), (true, false), (false, false)] {
        let plex = FakePlex::start(
            media.clone(),
            FakePlexOptions {
                on_deck,
                continue_hub,
                ..FakePlexOptions::default()
            },
        )
        .await
        .unwrap();
        let c = client(&plex);
        let found = c.continue_watching().await;
        if on_deck || continue_hub {
            let items = found.unwrap();
            assert!(!items.is_empty(), "on_deck {on_deck}, hub {continue_hub}");
            assert!(items.iter().all(|m| m.view_offset.unwrap_or(0) > 0));
        } else {
            assert!(
                matches!(found, Err(PlexError::NotFound { .. })),
                "{found:?}"
            );
        }
        let asked: Vec<String> = plex
            .requests()
            .iter()
            .map(|r| r.path_and_query.clone())
            .collect();
        assert!(
            asked
                .iter()
                .any(|p| p.starts_with("/hubs/continueWatching/items")),
            "the hub first: {asked:?}"
        );
        plex.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_through_the_whole_large_section() {
    let plex = fake().await;
    let c = client(&plex);
    let mut seen = HashSet::new();
    let mut start = 0u32;
    let mut pages = 0;
    loop {
        let page = c.section_items("3", start, 200).await.unwrap();
        assert_eq!(page.offset, start);
        for m in &page.items {
            assert!(
                seen.insert(m.rating_key.clone()),
                "duplicate {}",
                m.rating_key
            );
        }
        pages += 1;
        start += page.items.len() as u32;
        if page.items.is_empty() || start >= page.total_size {
            assert_eq!(page.total_size, 5000);
            break;
        }
    }
    assert_eq!(seen.len(), 5000);
    assert_eq!(pages, 25);
    assert_eq!(plex.request_count("/library/sections/3/all"), 25);
    // Past the end: an empty page without a Metadata key.
    let empty = c.section_items("3", 5000, 200).await.unwrap();
    assert!(empty.items.is_empty());
    assert_eq!(empty.total_size, 5000);
    plex.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn photos_and_ranged_part_fetch() {
    let plex = fake().await;
    let c = client(&plex);
    let media = ensure_media(&default_media_dir()).await.unwrap();

    let m = c.metadata(keys::TWO_VERSIONS_MOVIE).await.unwrap();
    let resp = c
        .photo_transcode_request(m.thumb.as_deref().unwrap(), 300, 450)
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    let jpeg = resp.bytes().await.unwrap();
    assert_eq!(&jpeg[..3], &[0xFF, 0xD8, 0xFF], "JPEG magic");

    let file = std::fs::read(&media.h264_mp4).unwrap();
    let key = &m.media[0].parts[0].key;
    let resp = c.fetch(key, Some("bytes=100-199")).await.unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(
        resp.headers()["content-range"],
        format!("bytes 100-199/{}", file.len()).as_str()
    );
    let body = resp.bytes().await.unwrap();
    assert_eq!(&body[..], &file[100..=199]);

    assert!(matches!(
        c.fetch("/library/parts/999/1/file.mp4", None).await,
        Err(PlexError::NotFound { .. })
    ));
    plex.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn decisions_hls_stop_and_refresh() {
    let plex = fake().await;
    let c = client(&plex);
    let mut req = TranscodeRequest {
        rating_key: keys::TWO_VERSIONS_MOVIE.to_string(),
        media_index: Some(0),
        part_index: None,
        session: "sess-1".to_string(),
        offset_secs: 0.0,
        max_video_bitrate_kbps: Some(4000),
        direct_play: true,
        direct_stream: true,
        ..Default::default()
    };
    let d = c.transcode_decision(&req).await.unwrap();
    assert!(d.direct_play, "{d:?}");
    assert_eq!(d.general_code, Some(1000));

    req.media_index = Some(1); // the HEVC version of the same movie
    let d = c.transcode_decision(&req).await.unwrap();
    assert!(!d.direct_play, "{d:?}");
    assert_eq!(d.media.unwrap().video_codec.as_deref(), Some("hevc"));

    req.rating_key = keys::HEVC_ONLY_MOVIE.to_string();
    req.media_index = None;
    let d = c.transcode_decision(&req).await.unwrap();
    assert!(!d.direct_play);
    assert_eq!(d.general_code, Some(1001));
    assert!(d.direct_play_text.is_some());

    let start = c.hls_start_path(&req);
    assert!(!start.to_lowercase().contains("token"));
    let master = c.fetch(&start, None).await.unwrap().text().await.unwrap();
    let variant = master
        .lines()
        .find(|l| !l.starts_with('#') && !l.is_empty())
        .unwrap();
    assert_eq!(variant, "session/sess-1/base/index.m3u8");
    let base = "/video/:/transcode/universal/";
    let index = c
        .fetch(&format!("{base}{variant}"), None)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let segment = index
        .lines()
        .find(|l| l.ends_with(".ts"))
        .unwrap()
        .to_string();
    let seg_path = format!("{base}session/sess-1/base/{segment}");
    let ts = c
        .fetch(&seg_path, None)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(ts.len() > 1000);
    assert_eq!(ts[0], 0x47);

    assert_eq!(plex.active_transcode_sessions(), ["sess-1"]);
    c.stop_transcode("sess-1").await.unwrap();
    assert!(plex.active_transcode_sessions().is_empty());
    assert!(matches!(
        c.fetch(&seg_path, None).await,
        Err(PlexError::NotFound { .. })
    ));

    let before = c.sections().await.unwrap()[0].updated_at.unwrap();
    c.refresh_section("1").await.unwrap();
    let after = c.sections().await.unwrap()[0].updated_at.unwrap();
    assert!(after > before);
    plex.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sends_identification_headers_and_never_the_token_in_urls() {
    let plex = fake().await;
    let c = client(&plex);
    c.sections().await.unwrap();
    c.section_items("3", 0, 10).await.unwrap();
    let reqs = plex.requests();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        assert_eq!(r.header("X-Plex-Token"), Some(plex.token()));
        assert_eq!(
            r.header("X-Plex-Client-Identifier"),
            Some("marquee-test-client")
        );
        assert_eq!(r.header("X-Plex-Product"), Some("Marquee"));
        assert!(r.header("X-Plex-Version").is_some());
        assert!(r.header("X-Plex-Platform").is_some());
        assert!(r.header("X-Plex-Device-Name").is_some());
        assert_eq!(r.header("Accept"), Some("application/json"));
        assert!(!r.path_and_query.contains(plex.token()));
    }
    assert_eq!(reqs[1].header("X-Plex-Container-Size"), Some("10"));
    let debug = format!("{c:?}");
    assert!(!debug.contains(plex.token()), "{debug}");
    plex.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn error_mapping() {
    let plex = fake().await;
    let bad = PlexClient::new(config(&plex.base_url(), "wrong-token")).unwrap();
    assert!(matches!(bad.sections().await, Err(PlexError::Unauthorized)));
    // /identity needs no token.
    bad.identity().await.unwrap();

    let c = client(&plex);
    plex.set_fault(Some(Fault::MalformedJson));
    assert!(matches!(
        c.sections().await,
        Err(PlexError::Malformed { .. })
    ));
    plex.set_fault(Some(Fault::Status(503)));
    assert!(matches!(
        c.sections().await,
        Err(PlexError::Status { status: 503 })
    ));

    let mut cfg = config(&plex.base_url(), plex.token());
    cfg.timeout = Duration::from_millis(300);
    let quick = PlexClient::new(cfg).unwrap();
    plex.set_fault(Some(Fault::Delay(Duration::from_secs(3))));
    let t = Instant::now();
    assert!(matches!(quick.sections().await, Err(PlexError::Timeout)));
    assert!(
        t.elapsed() < Duration::from_millis(1300),
        "{:?}",
        t.elapsed()
    );
    let t = Instant::now();
    assert!(matches!(
        quick.fetch("/library/sections", None).await,
        Err(PlexError::Timeout)
    ));
    assert!(
        t.elapsed() < Duration::from_millis(1300),
        "{:?}",
        t.elapsed()
    );
    plex.set_fault(None);
    c.sections().await.unwrap();
    plex.shutdown().await;

    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let down = PlexClient::new(config(&format!("http://{addr}"), "t")).unwrap();
    assert!(matches!(
        down.sections().await,
        Err(PlexError::Unreachable { .. })
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn xml_responses_are_understood() {
    // A proxy that drops Accept makes Plex answer XML; the client must still cope.
    let plex = fake().await;
    let raw = reqwest::Client::new()
        .get(format!("{}/library/metadata/101", plex.base_url()))
        .header("X-Plex-Token", plex.token())
        .send()
        .await
        .unwrap();
    let ct = raw.headers()["content-type"].to_str().unwrap().to_string();
    let xml = raw.text().await.unwrap();
    assert!(xml.contains("<Video"));
    let json = reqwest::Client::new()
        .get(format!("{}/library/metadata/101", plex.base_url()))
        .header("X-Plex-Token", plex.token())
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let a = marquee_plex::parse_metadata_list(xml.as_bytes(), Some(&ct)).unwrap();
    let b = marquee_plex::parse_metadata_list(json.as_bytes(), Some("application/json")).unwrap();
    assert_eq!(
        serde_json::to_value(&a).unwrap(),
        serde_json::to_value(&b).unwrap()
    );
    assert_eq!(a[0].media.len(), 2);
    plex.shutdown().await;
}

#[test]
fn config_validation_and_debug_redaction() {
    let cfg = config("http://127.0.0.1:32400", "super-secret-token");
    assert!(!format!("{cfg:?}").contains("super-secret-token"));
    let mut ftp = cfg.clone();
    ftp.base_url = "ftp://x".parse().unwrap();
    assert!(matches!(
        PlexClient::new(ftp),
        Err(PlexError::InvalidConfig(_))
    ));
    let mut bad = cfg;
    bad.device_name = "line\nbreak".into();
    assert!(matches!(
        PlexClient::new(bad),
        Err(PlexError::InvalidConfig(_))
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn streams_are_read_selected_and_extracted() {
    let plex = fake().await;
    let c = client(&plex);
    let m = c.metadata(keys::MULTI_TRACK_MOVIE).await.unwrap();
    let part = &m.media[0].parts[0];
    let subs: Vec<&marquee_plex::Stream> =
        part.streams.iter().filter(|s| s.stream_type == 3).collect();
    assert_eq!(subs.len(), 4);
    assert_eq!(subs[3].forced, Some(true));
    assert_eq!(subs[2].title.as_deref(), Some("Styled"));
    let key = subs[1].key.clone().unwrap();
    let srt = c.stream_file(&key).await.unwrap();
    assert!(String::from_utf8_lossy(&srt).contains("Ligne française 1"));
    // Servers also write the key with the file's extension.
    assert_eq!(c.stream_file(&format!("{key}.srt")).await.unwrap(), srt);
    for bad in [
        "/library/metadata/1",
        "/library/streams/",
        "/library/streams/1/../x",
        "/library/streams/1.s/rt",
    ] {
        assert!(
            matches!(c.stream_file(bad).await, Err(PlexError::InvalidInput(_))),
            "{bad}"
        );
    }
    // An embedded stream: select it, then Plex's transcoder hands it over.
    c.select_streams(part.id, None, Some(subs[0].id))
        .await
        .unwrap();
    let req = TranscodeRequest {
        rating_key: keys::MULTI_TRACK_MOVIE.into(),
        media_index: Some(0),
        session: "subs-1".into(),
        ..Default::default()
    };
    let ass = c.extract_subtitles(&req).await.unwrap();
    assert!(String::from_utf8_lossy(&ass).contains("English line 1"));
    let sent = plex
        .requests()
        .into_iter()
        .find(|r| r.path().ends_with("/transcode/universal/subtitles"))
        .unwrap();
    assert_eq!(sent.query_param("subtitles").as_deref(), Some("sidecar"));
    assert_eq!(
        sent.query_param("advancedSubtitles").as_deref(),
        Some("text")
    );
    assert_eq!(sent.query_param("protocol").as_deref(), Some("http"));
    // A stream of another Part is Plex's 400.
    assert!(c.select_streams(part.id, Some(12), None).await.is_err());
    plex.shutdown().await;
}
