//! End-to-end HTTP tests of a real Marquee server over a fake Plex. Each test runs in the
//! embedded mode (SQLite + in-process cache) and in the scale-out mode (PostgreSQL + Redis).

use reqwest::StatusCode;

use crate::helpers;
use crate::helpers::{TestApp, both_modes, spawn_app};

both_modes! {
    spawn_app => [
        home_is_server_rendered_with_the_demo_sections,
        sections_page_through_the_large_library,
        shows_lead_to_seasons_and_episodes,
        search_finds_titles,
        media_route_answers_ranges_with_exact_bytes,
        hls_playlists_and_segments_flow_through_the_proxy,
        plex_token_never_reaches_the_browser,
        bad_input_gets_json_errors,
        admin_endpoints_need_the_token_and_invalidate,
        concurrent_page_loads_make_one_plex_call,
        plex_outage_gives_a_clear_error_page,
        leaving_the_player_stops_the_transcode,
        an_item_added_in_plex_shows_up_at_once,
    ],
}

async fn home_is_server_rendered_with_the_demo_sections(app: TestApp) {
    let (status, html) = app.text("/").await;
    assert_eq!(status, 200);
    for title in ["Movies", "TV Shows", "Archive"] {
        assert!(
            html.contains(&format!("<span>{title}</span>")),
            "{title} missing from SSR HTML"
        );
    }
    assert!(html.contains("Continue watching"));
    assert!(
        html.contains("/pkg/marquee.js"),
        "hydration script is referenced"
    );
}

async fn sections_page_through_the_large_library(app: TestApp) {
    let (status, html) = app.text("/library/3?page=2").await;
    assert_eq!(status, 200);
    assert_eq!(
        html.matches("class=\"card\"").count(),
        60,
        "a full page of posters"
    );
    assert!(html.contains("Page 2 of "), "pager shows the page");
    assert!(html.contains("rel=\"prev\"") && html.contains("rel=\"next\""));
    let total = count(&html);
    assert!(total >= 5000, "{total}");
    let last = total.div_ceil(60);
    let (status, html) = app.text(&format!("/library/3?page={last}")).await;
    assert_eq!(status, 200);
    assert!(
        !html.contains("rel=\"next\""),
        "no next link on the last page"
    );
}

async fn shows_lead_to_seasons_and_episodes(app: TestApp) {
    let (_, show) = app.text("/item/201").await;
    for season in ["Specials", "Season 1", "Season 2"] {
        assert!(show.contains(season), "{season} on the show page");
    }
    let (_, season) = app.text("/item/211").await;
    assert!(season.contains("First Flame") && season.contains("Oil and Ash"));
    let (_, movie) = app.text("/item/101").await;
    assert!(
        movie.contains("Versions"),
        "two-version movie lists its versions"
    );
    assert!(movie.contains("transcoded for the browser") && movie.contains("plays directly"));
}

async fn search_finds_titles(app: TestApp) {
    let (status, html) = app.text("/search?q=copper").await;
    assert_eq!(status, 200);
    assert!(html.contains("Copper Sky"));
    let (_, html) = app.text("/search?q=lanterns").await;
    assert!(html.contains("Lanterns of Vell"), "shows are found too");
    let (_, html) = app.text("/search?q=zzzz-nothing").await;
    assert!(html.contains("Nothing in the library matches"));
}

async fn media_route_answers_ranges_with_exact_bytes(app: TestApp) {
    let media = helpers::media().await;
    let file = std::fs::read(&media.h264_mp4).unwrap();
    let url = app.signed("/media/105/0/0");
    let r = app
        .client
        .get(app.url(&url))
        .header("Range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.headers()["content-range"].to_str().unwrap(),
        format!("bytes 100-199/{}", file.len())
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), &file[100..200]);

    let full = app.get(&url).await;
    assert_eq!(full.status(), StatusCode::OK);
    assert_eq!(full.headers()["accept-ranges"], "bytes");
    assert_eq!(full.bytes().await.unwrap().len(), file.len());
}

async fn hls_playlists_and_segments_flow_through_the_proxy(app: TestApp) {
    let (_, start) = app.transcode("102", 0);
    let master = app.get(&start).await;
    assert_eq!(master.status(), 200);
    assert_eq!(
        master.headers()["content-type"],
        "application/vnd.apple.mpegurl"
    );
    let master = master.text().await.unwrap();
    let variant = master
        .lines()
        .find(|l| !l.starts_with('#') && !l.is_empty())
        .unwrap();
    let index = app.text(&format!("/hls/102/0/{variant}")).await;
    assert_eq!(index.0, 200, "{}", index.1);
    let segment = index
        .1
        .lines()
        .find(|l| l.ends_with(".ts"))
        .expect("a segment");
    let base = variant.rsplit_once('/').unwrap().0;
    let seg = app.get(&format!("/hls/102/0/{base}/{segment}")).await;
    assert_eq!(seg.status(), 200);
    let bytes = seg.bytes().await.unwrap();
    assert_eq!(bytes[0], 0x47, "an MPEG-TS sync byte");
}

/// Crawl every kind of response a browser can get and look for the token anywhere in it.
async fn plex_token_never_reaches_the_browser(app: TestApp) {
    let token = app.plex().token().to_string();
    assert!(token.len() >= 16);
    let (_, start) = app.transcode("102", 0);
    let mut paths: Vec<String> = [
        "/",
        "/library/1",
        "/library/2",
        "/library/3?page=3",
        "/item/101",
        "/item/201",
        "/item/211",
        "/item/212",
        "/search?q=a",
        "/watch/105",
        "/watch/102",
        "/watch/101?v=1",
        "/item/999999",
        app.signed("/media/105/0/0").as_str(),
        "/media/105/0/0",
        "/media/abc/0/0",
        start.as_str(),
        "/hls/102/0/start.m3u8",
        "/img/105/thumb/1",
        "/healthz",
        "/metrics",
        "/no/such/page",
        "/pkg/marquee.css",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Follow the HLS chain and the poster URLs the pages contain.
    let master = app.text(&start).await.1;
    if let Some(v) = master
        .lines()
        .find(|l| !l.starts_with('#') && !l.is_empty())
    {
        paths.push(format!("/hls/102/0/{v}"));
    }
    let html = app.text("/library/1").await.1;
    for chunk in html.split("src=\"/img/").skip(1).take(3) {
        let src = chunk.split('"').next().unwrap().replace("&amp;", "&");
        paths.push(format!("/img/{src}"));
    }
    for path in &paths {
        let r = app
            .client
            .get(app.url(path))
            .header("Range", "bytes=0-65535")
            .send()
            .await
            .unwrap();
        for (name, value) in r.headers() {
            assert!(
                !value
                    .as_bytes()
                    .windows(token.len())
                    .any(|w| w == token.as_bytes()),
                "token in header {name} of {path}"
            );
        }
        let body = r.bytes().await.unwrap();
        assert!(
            !body.windows(token.len()).any(|w| w == token.as_bytes()),
            "token in the body of {path}"
        );
    }
    // Server functions (what the browser calls after hydration).
    for (endpoint, body) in [
        ("/api/home", ""),
        ("/api/section", "key=3&page=2"),
        ("/api/item", "key=101"),
        ("/api/search", "query=sky"),
        ("/api/playback", "key=102"),
        ("/api/playback", "key=105"),
    ] {
        let r = app
            .client
            .post(app.url(endpoint))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{endpoint} {body}: {}", r.status());
        let text = r.text().await.unwrap();
        assert!(
            !text.contains(&token),
            "token in server function {endpoint}"
        );
    }
}

async fn bad_input_gets_json_errors(app: TestApp) {
    let (bad_version, _) = app.transcode("102", 5);
    let (token, _) = app.transcode("102", 0);
    for (path, status, code) in [
        (app.signed("/media/abc!/0/0"), 400, "bad_request"),
        (app.signed("/media/999999/0/0"), 404, "not_found"),
        (app.signed("/media/105/7/0"), 404, "not_found"),
        (app.signed("/img/105/file/1"), 400, "bad_request"),
        (
            format!("/hls/102/0/session/{token}/base/index.json"),
            400,
            "bad_request",
        ),
        (
            format!("/hls/102/5/start.m3u8?session={bad_version}"),
            404,
            "not_found",
        ),
        ("/media/105/0/0".to_owned(), 403, "link_refused"),
        (
            format!("/hls/102/0/start.m3u8?session={bad_version}"),
            403,
            "link_refused",
        ),
    ] {
        let path = path.as_str();
        let r = app.get(path).await;
        assert_eq!(r.status().as_u16(), status, "{path}");
        let body: serde_json::Value = r
            .json()
            .await
            .unwrap_or_else(|e| panic!("{path}: JSON body ({e})"));
        assert_eq!(body["error"], code, "{path}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Pages answer with real statuses and a readable message.
    let (status, html) = app.text("/item/999999").await;
    assert_eq!(status, 404);
    assert!(html.contains("was not found"));
    let (status, html) = app.text("/watch/105?v=9").await;
    assert_eq!(status, 400);
    assert!(html.contains("version 9 does not exist"));
    let long = "x".repeat(200);
    let (status, html) = app.text(&format!("/search?q={long}")).await;
    assert_eq!(status, 400);
    assert!(html.contains("limited to 100 characters"));
}

async fn admin_endpoints_need_the_token_and_invalidate(app: TestApp) {
    use secrecy::ExposeSecret;
    let clear = app.url("/api/admin/cache/clear");
    let r = app.client.post(&clear).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = app
        .client
        .post(&clear)
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let token = app.running.admin_token.expose_secret().to_string();
    let listing = "/library/sections/1/all";
    app.text("/library/1").await;
    app.text("/library/1").await;
    let before = app.plex().request_count(listing);
    assert_eq!(before, 1, "second load came from the cache");

    let r = app
        .client
        .post(app.url("/api/admin/library/1/refresh"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(
        app.plex().request_count("/library/sections/1/refresh"),
        1,
        "Plex was asked to rescan"
    );
    app.text("/library/1").await;
    assert_eq!(
        app.plex().request_count(listing),
        2,
        "refresh invalidated the listing"
    );

    let r = app
        .client
        .post(&clear)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.text("/library/1").await;
    assert_eq!(
        app.plex().request_count(listing),
        3,
        "clear emptied the cache"
    );
}

async fn concurrent_page_loads_make_one_plex_call(app: TestApp) {
    let path = "/library/3?page=5";
    let done = std::sync::atomic::AtomicUsize::new(0);
    let loads = (0..20).map(|_| async {
        let r = app.text(path).await;
        done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        r
    });
    // Bounded: these loads used to hang now and then when another test's server was generating
    // its Leptos route list at the same moment (see `startup::route_list`). If anything like it
    // comes back, fail with what is known instead of hanging the suite.
    let Ok(results) = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        futures::future::join_all(loads),
    )
    .await
    else {
        let health = tokio::time::timeout(std::time::Duration::from_secs(3), app.text("/healthz"))
            .await
            .map(|r| r.0);
        panic!(
            "concurrent page loads hung: {} of 20 answered; Plex calls {}; healthz {health:?}; cache {:?}",
            done.load(std::sync::atomic::Ordering::SeqCst),
            app.plex().request_count("/library/sections/3/all"),
            app.running.services.cache.stats()
        );
    };
    assert!(results.iter().all(|(s, _)| *s == 200));
    // One call for the page and one for page 1, which tells the section's size (page numbers
    // are clamped to it), however many loads ran at once.
    assert_eq!(app.plex().request_count("/library/sections/3/all"), 2);
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(helpers::viewer::admin_token(&app))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("marquee_cache_hits"), "{metrics}");
}

async fn plex_outage_gives_a_clear_error_page(app: TestApp) {
    app.plex()
        .set_fault(Some(marquee_fakes::plex::Fault::Status(503)));
    let (status, html) = app.text("/search?q=outage-probe").await;
    assert_eq!(status, 502);
    assert!(
        html.contains("cannot be reached") || html.contains("Plex server"),
        "{html}"
    );
    app.plex().set_fault(None);
    let (status, _) = app.text("/search?q=outage-probe").await;
    assert_eq!(status, 200, "errors are not cached");
}

/// Scale-out: two servers share PostgreSQL and Redis, so the second serves from the first's cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_the_redis_cache() {
    let plex = helpers::start_fake_plex().await;
    let db = helpers::fresh_postgres_database().await.url;
    let redis = (helpers::redis_url(), helpers::fresh_redis_namespace().await);
    let a = helpers::spawn_with_plex(&plex, Some(db.clone()), Some(redis.clone())).await;
    let b = helpers::spawn_with_plex(&plex, Some(db), Some(redis)).await;
    let page = "/library/3?page=11";
    assert_eq!(a.text(page).await.0, 200);
    assert_eq!(b.text(page).await.0, 200);
    assert_eq!(
        plex.request_count("/library/sections/3/all"),
        2,
        "server b used a's cached listings (the page, and page 1 for the section's size)"
    );
}

async fn leaving_the_player_stops_the_transcode(app: TestApp) {
    let (session, start) = app.transcode("102", 0);
    let r = app.get(&start).await;
    assert_eq!(r.status(), 200);
    let running = app.plex().active_transcode_sessions();
    assert_eq!(running.len(), 1, "{running:?}");
    assert!(
        !running.contains(&session),
        "Plex's session id is Marquee's own, not the viewer's token"
    );
    let r = app
        .client
        .post(app.url(&format!("/hls/102/0/stop/{session}/base")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(app.plex().active_transcode_sessions().is_empty());
    let stopped = app
        .plex()
        .timelines()
        .into_iter()
        .rfind(|t| t.session.as_ref() == Some(&running[0]))
        .and_then(|t| t.state);
    assert_eq!(
        stopped.as_deref(),
        Some("stopped"),
        "Plex heard the player stop"
    );
    let r = app.get("/hls/102/0/start.m3u8?session=../../x").await;
    assert_eq!(r.status(), 403);
}

/// Issue 14 part 6: newer Plex servers answer `/library/onDeck` with 404 (the demo's fake is
/// one, so the home page test above covers it); older ones lack the continue-watching hub. A
/// Plex call that fails outright costs the page its row, not the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_page_survives_a_missing_or_failing_continue_row() {
    use marquee_fakes::plex::{FakePlexOptions, Fault};
    let (older, status, html) = home_on(FakePlexOptions {
        on_deck: true,
        continue_hub: false,
        ..FakePlexOptions::default()
    })
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Continue watching"), "from /library/onDeck");
    assert!(older.request_count("/library/onDeck") >= 1);

    let (_neither, status, html) = home_on(FakePlexOptions {
        on_deck: false,
        continue_hub: false,
        ..FakePlexOptions::default()
    })
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<span>Movies</span>") && !html.contains("Continue watching"));
    assert!(
        !html.contains("continue-unavailable"),
        "no such row is not a failure"
    );

    let failing = helpers::start_fake_plex().await;
    failing.set_fault(Some(Fault::StatusFor("/hubs/continueWatching", 500)));
    let app = helpers::spawn_with_plex(&failing, None, None).await;
    let (status, html) = app.text("/").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("<span>TV Shows</span>"),
        "the libraries still show"
    );
    assert!(
        html.contains("Continue watching could not be loaded"),
        "the missing row is explained: {html}"
    );
    assert!(!html.contains("fake-plex-token") && !html.contains("127.0.0.1:"));
}

/// Issue 14 part 6: music and photo libraries used to be links to a 404. They are listed as
/// what they are, and opening one anyway says why there is nothing to play.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn music_and_photo_libraries_are_listed_but_not_offered() {
    use marquee_fakes::plex::{FakePlexOptions, MUSIC_SECTION, PHOTOS_SECTION};
    let plex = helpers::start_fake_plex_with(FakePlexOptions {
        music_and_photos: true,
        ..FakePlexOptions::default()
    })
    .await;
    let app = helpers::spawn_with_plex(&plex, None, None).await;
    let (status, html) = app.text("/").await;
    assert_eq!(status, 200);
    assert!(html.contains("<span>Music</span>") && html.contains("<span>Photos</span>"));
    assert!(html.contains("music library · not playable here"), "{html}");
    for key in [MUSIC_SECTION, PHOTOS_SECTION] {
        assert!(
            !html.contains(&format!("href=\"/library/{key}\"")),
            "section {key} is not a link"
        );
    }
    assert!(html.contains("href=\"/library/1\""), "movies still are");

    let (status, page) = app.text(&format!("/library/{MUSIC_SECTION}")).await;
    assert_eq!(status, 404);
    assert!(
        page.contains("is a music library; Marquee plays movies and TV shows only"),
        "{page}"
    );
    let r = app
        .client
        .post(app.url("/api/section"))
        .form(&[("key", MUSIC_SECTION), ("page", "1")])
        .send()
        .await
        .unwrap();
    assert!(!r.status().is_success(), "{}", r.status());
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Unsupported") && body.contains("music library"),
        "the server function says so too: {body}"
    );
}

/// Issue 14 part 7: section listings are cached for ten minutes, so a file Plex had just
/// scanned in stayed invisible that long. Marquee listens on Plex's notification socket and
/// drops the stale listings as soon as Plex announces the new item.
async fn an_item_added_in_plex_shows_up_at_once(app: TestApp) {
    let (status, html) = app.text("/library/3").await;
    assert_eq!(status, 200);
    let before = count(&html);
    let plex = app.plex();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while plex.notification_listeners() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "Marquee never listened to Plex's notifications"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let calls = plex.request_count("/library/sections/3/all");
    assert_eq!(
        count(&app.text("/library/3").await.1),
        before,
        "served from the cache"
    );
    assert_eq!(plex.request_count("/library/sections/3/all"), calls);

    let added = plex.add_item();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        let (_, html) = app.text("/library/3").await;
        if count(&html) == before + 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "item {added} still missing from the section after 3 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let last = (before + 1).div_ceil(60);
    let (_, page) = app.text(&format!("/library/3?page={last}")).await;
    assert!(
        page.contains(&format!("/item/{added}")),
        "the new item is on the last page"
    );
}

/// Issue 14 part 7, for a Plex server whose notification socket Marquee cannot reach: the
/// admin pastes the address `GET /api/admin/plex-webhook` gives into Plex, and Plex's
/// `library.new` webhook drops the stale listings. A forged or unsigned address is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plex_webhook_shows_a_new_item_at_once() {
    use marquee_fakes::plex::FakePlexOptions;
    let plex = helpers::start_fake_plex_with(FakePlexOptions {
        notifications: false,
        ..FakePlexOptions::default()
    })
    .await;
    let app = helpers::spawn_with_plex(&plex, None, None).await;
    let before = count(&app.text("/library/3").await.1);

    let r = app.get("/api/admin/plex-webhook").await;
    assert_eq!(r.status(), 401, "the address is the admin's to see");
    let r = app
        .client
        .get(app.url("/api/admin/plex-webhook"))
        .bearer_auth(helpers::viewer::admin_token(&app))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    let url = body["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&app.running.url()) && url.contains("&sig="),
        "{url}"
    );

    for forged in [
        app.url("/api/plex/webhook"),
        format!("{}0", url.trim_end_matches(|c: char| c.is_ascii_hexdigit())),
    ] {
        let form = reqwest::multipart::Form::new().text(
            "payload",
            r#"{"event":"library.new","Metadata":{"ratingKey":"1","librarySectionID":3}}"#,
        );
        let r = app
            .client
            .post(&forged)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{forged}");
    }
    assert_eq!(count(&app.text("/library/3").await.1), before);

    plex.set_webhook(Some(url));
    let added = plex.add_item();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while count(&app.text("/library/3").await.1) != before + 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "item {added} still missing after the webhook"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The item count a section page shows ("5000 items").
fn count(html: &str) -> u32 {
    html.split(" items<")
        .next()
        .and_then(|s| s.rsplit('>').next())
        .and_then(|s| s.trim().parse().ok())
        .expect("item count on the page")
}

/// A Marquee (embedded) over a fake Plex shaped by `options`, and its home page.
async fn home_on(
    options: marquee_fakes::plex::FakePlexOptions,
) -> (marquee_fakes::plex::FakePlex, u16, String) {
    let plex = helpers::start_fake_plex_with(options).await;
    let app = helpers::spawn_with_plex(&plex, None, None).await;
    let (status, html) = app.text("/").await;
    (plex, status, html)
}
