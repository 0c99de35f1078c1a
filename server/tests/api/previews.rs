//! Seek previews through Marquee: the thumbnail of a moment is the very image Plex's BIF index
//! holds for it, behind a link signed for the Part (the time is free, nothing else is), and a
//! version without an index answers 404 in JSON.

use marquee_plex::bif::Bif;
use reqwest::StatusCode;

use crate::helpers;
use crate::helpers::{TestApp, both_modes, spawn_app};

both_modes! {
    spawn_app => [
        a_thumbnail_is_plexs_image_of_that_moment_behind_a_link_signed_for_the_part,
    ],
}

/// `signed` (a signed `/previews/{item}/{version}/{part}` link) with the time after its path.
fn at(signed: &str, ms: u64) -> String {
    let (path, query) = signed.split_once('?').unwrap();
    format!("{path}/{ms}?{query}")
}

async fn a_thumbnail_is_plexs_image_of_that_moment_behind_a_link_signed_for_the_part(app: TestApp) {
    let media = helpers::media().await;
    let bif = Bif::parse(std::fs::read(&media.h264_previews).unwrap().into()).unwrap();
    assert_eq!(bif.len(), 60, "one image every 2 s of the 2-minute clip");
    let signed = app.signed("/previews/101/0/0");
    for ms in [0, 1_999, 61_000, 119_999, 500_000] {
        let r = app.get(&at(&signed, ms)).await;
        assert_eq!(r.status(), StatusCode::OK, "{ms}");
        assert_eq!(r.headers()["content-type"], "image/jpeg");
        let body = r.bytes().await.unwrap();
        assert_eq!(
            body,
            bif.frame_at(ms).unwrap(),
            "the image Plex made for {ms} ms"
        );
    }
    assert_ne!(
        app.get(&at(&signed, 0)).await.bytes().await.unwrap(),
        app.get(&at(&signed, 61_000)).await.bytes().await.unwrap()
    );
    // Plex was asked for the index once, whatever the number of thumbnails served.
    assert_eq!(
        app.plex().request_count("/library/parts/1011/indexes/sd"),
        1
    );

    // The signature is the part's: not another version's, not unsigned, not a path of another
    // shape.
    let (path, query) = signed.split_once('?').unwrap();
    for refused in [
        format!("/previews/101/1/0/60000?{query}"),
        "/previews/101/0/0/60000".to_owned(),
        format!("{path}/60000/1?{query}"),
    ] {
        let r = app.get(&refused).await;
        assert!(r.status().is_client_error(), "{refused}: {}", r.status());
        assert_ne!(
            r.headers().get("content-type").map(|v| v.to_str().unwrap()),
            Some("image/jpeg"),
            "{refused}"
        );
    }
    // The HEVC version has no thumbnails: a clear 404.
    let r = app.get(&at(&app.signed("/previews/101/1/0"), 60_000)).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "not_found", "{body}");
}
