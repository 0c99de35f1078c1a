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

#[tokio::test(flavor = "multi_thread")]
async fn hls_needs_a_started_session() {
    let plex = start().await;
    let base = plex.base_url();
    let get = |p: String| {
        client()
            .get(format!("{base}{p}"))
            .header("X-Plex-Token", plex.token())
            .send()
    };
    let r = get("/video/:/transcode/universal/session/s1/base/index.m3u8".into())
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "unknown session");
    let r = get("/video/:/transcode/universal/start.m3u8?path=%2Flibrary%2Fmetadata%2F102".into())
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "session is required");
    let r = get(
        "/video/:/transcode/universal/start.m3u8?path=%2Flibrary%2Fmetadata%2F102&session=s1"
            .into(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("\nsession/s1/base/index.m3u8\n")
    );
    let r = get("/video/:/transcode/universal/session/s1/base/00000.ts".into())
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "video/mp2t");
    let ts = r.bytes().await.unwrap();
    assert_eq!(ts[0], 0x47, "MPEG-TS sync byte");
    assert_eq!(plex.active_transcode_sessions(), vec!["s1".to_string()]);
    get("/video/:/transcode/universal/stop?session=s1".into())
        .await
        .unwrap();
    assert!(plex.active_transcode_sessions().is_empty());
    plex.shutdown().await;
}
