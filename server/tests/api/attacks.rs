//! The outside security review's attacks, each performed against a running Marquee: a test
//! here passes only while the door it tries stays shut.

use marquee_fakes::discord::FakeUser;
use marquee_sync::Role;
use reqwest::header::COOKIE;
use serde_json::json;

use crate::activity::{World, world};
use crate::helpers::viewer::{Rejoin, Viewer, create_session};
use crate::helpers::{TestApp, both_modes, spawn_app};

both_modes! {
    spawn_app => [
        a_guest_cannot_take_another_members_place,
        session_links_cannot_be_guessed,
        round_trip_reports_do_not_write_the_session_each_time,
        oversized_bodies_are_refused_unread,
    ],
    world => [
        with_sign_in_the_library_and_media_are_closed_to_strangers,
        another_site_cannot_act_with_a_viewers_cookies,
        a_signed_in_person_keeps_their_discord_name,
    ],
}

/// Review item 3: with Discord sign-in set up (and guests off), a stranger gets nothing of the
/// library: no page, no server function, no media, no transcode, no poster, no metrics. Eve,
/// signed in but not a member of the bot's server, is told she is not on the list. Ana, a
/// member, gets everything, through signed links that stop working when copied to another
/// item, changed, or expired.
async fn with_sign_in_the_library_and_media_are_closed_to_strangers(w: World) {
    let app = &w.app;
    let transcodes_before = app.plex().active_transcode_sessions().len();
    let pages = [
        "/",
        "/library/1",
        "/item/101",
        "/watch/101",
        "/search?q=harbor",
    ];
    for path in pages {
        let (status, html) = app.text(path).await;
        assert_eq!(status, 401, "{path}");
        assert!(html.contains("Sign in"), "{path}: {html}");
        assert!(
            !html.contains("Harbor Lights"),
            "{path} shows nothing of the library"
        );
    }
    let functions = [
        ("/api/home", ""),
        ("/api/section", "key=1&page=1"),
        ("/api/item", "key=101"),
        ("/api/search", "query=harbor"),
        ("/api/playback", "key=102"),
    ];
    let post_fn = |endpoint: &str, body: &str, cookie: Option<&str>| {
        let mut r = w
            .http
            .post(app.url(endpoint))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        if let Some(c) = cookie {
            r = r.header(COOKIE, c);
        }
        r.send()
    };
    for (endpoint, body) in functions {
        let r = post_fn(endpoint, body, None).await.unwrap();
        assert_eq!(r.status(), 401, "{endpoint}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"], "sign_in_required", "{endpoint}");
    }
    for path in [
        "/media/101/0/0",
        "/hls/102/0/start.m3u8",
        "/hls/102/0/start.m3u8?session=0123456789abcdef",
        "/img/101/thumb/1?w=240&h=360",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status(), 403, "{path}");
    }
    assert_eq!(
        app.plex().active_transcode_sessions().len(),
        transcodes_before,
        "no transcode was started for a stranger"
    );
    assert_eq!(app.get("/metrics").await.status(), 401);

    // Eve has a Discord account, but is in none of the bot's servers.
    let eve = FakeUser::new(900_000_000_000_000_066, "eve");
    let eve_cookie = w.web_sign_in(&eve).await;
    let r = w
        .http
        .get(app.url("/"))
        .header(COOKIE, &eve_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("only for members"));
    let r = post_fn("/api/playback", "key=102", Some(&eve_cookie))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Ana is a member: the library is hers, with signed links.
    let ana = w.web_sign_in(&w.ana).await;
    let r = w
        .http
        .get(app.url("/library/1"))
        .header(COOKIE, &ana)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let poster = html
        .split("src=\"/img/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|src| format!("/img/{}", src.replace("&amp;", "&")))
        .expect("a poster");
    assert!(poster.contains("&sig="), "{poster}");
    assert_eq!(app.get(&poster).await.status(), 200, "{poster}");
    let moved = poster.replacen("/img/", "/img/9", 1);
    assert_eq!(
        app.get(&moved).await.status(),
        403,
        "the signature is for that poster only"
    );

    // Review item 17: /metrics is for the admin token, not for any signed-in person.
    let metrics = |cookie: Option<&str>, admin: bool| {
        let mut r = w.http.get(app.url("/metrics"));
        if let Some(c) = cookie {
            r = r.header(COOKIE, c);
        }
        if admin {
            r = r.bearer_auth(crate::helpers::viewer::admin_token(app));
        }
        r.send()
    };
    assert_eq!(metrics(Some(&ana), false).await.unwrap().status(), 401);
    assert_eq!(metrics(None, true).await.unwrap().status(), 200);

    let r = post_fn("/api/playback", "key=105", Some(&ana))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let info: serde_json::Value = r.json().await.unwrap();
    let src = info["src"].as_str().unwrap().to_owned();
    assert!(src.starts_with("/media/105/0/0?exp="), "{src}");
    assert_eq!(app.get(&src).await.status(), 200);
    let other_item = src.replacen("/media/105/", "/media/101/", 1);
    assert_eq!(app.get(&other_item).await.status(), 403);
    let expired = app.running.services.urls.signer().sign("/media/105/0/0", 1);
    let r = app.get(&expired).await;
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "link_expired");

    let r = post_fn("/api/playback", "key=102", Some(&ana))
        .await
        .unwrap();
    let info: serde_json::Value = r.json().await.unwrap();
    let hls = info["src"].as_str().unwrap().to_owned();
    assert_eq!(app.get(&hls).await.status(), 200, "{hls}");
    let other = hls.replacen("/hls/102/", "/hls/101/", 1);
    assert_eq!(
        app.get(&other).await.status(),
        403,
        "a token is for its item only"
    );
}

/// Review item 2: member ids are public (every snapshot has them), so a guest who sends the
/// host's id in `hello` must not become the host. Without the host's rejoin key, or with a
/// wrong one, the hello makes a new member; the key itself is never shown to anyone else.
async fn a_guest_cannot_take_another_members_place(app: TestApp) {
    let (id, host) = create_session(&app, "101", "Ana").await;
    let base = app.running.url();
    let ana = Viewer::join(&base, &id, "Ana", Some(&host)).await;
    assert_eq!(ana.member, host.member);
    assert_eq!(ana.session.member(&host.member).unwrap().role, Role::Host);

    // Eve learns Ana's member id the way anyone can: from the snapshot over HTTP.
    let snapshot = app.get(&format!("/api/sessions/{id}")).await;
    let text = snapshot.text().await.unwrap();
    assert!(text.contains(&host.member), "member ids are public");
    assert!(!text.contains(&host.key), "the rejoin key is not");

    for key in [None, Some("0".repeat(64)), Some(String::new())] {
        let mut hello =
            json!({"type": "hello", "protocol": 1, "name": "Eve", "member": host.member});
        if let Some(k) = &key {
            hello["member_key"] = json!(k);
        }
        let eve = Viewer::hello(&base, &id, hello).await;
        assert_ne!(eve.member, host.member, "key {key:?}: Eve became Ana");
        let me = eve.session.member(&eve.member).unwrap();
        assert_eq!(me.role, Role::Viewer, "key {key:?}");
        assert_eq!(me.name, "Eve");
        let ana_now = eve.session.member(&host.member).unwrap();
        assert_eq!((ana_now.role, ana_now.name.as_str()), (Role::Host, "Ana"));
        assert!(
            !serde_json::to_string(&eve.session)
                .unwrap()
                .contains(&host.key),
            "the snapshot carries no key"
        );
        // Eve's own key proves Eve only.
        let eve_key = eve
            .member_key
            .clone()
            .expect("a new member gets its own key");
        assert_ne!(eve_key, host.key);
        drop(eve);
        let again = Viewer::join(
            &base,
            &id,
            "Eve",
            Some(&Rejoin {
                member: host.member.clone(),
                key: eve_key,
            }),
        )
        .await;
        assert_ne!(again.member, host.member, "another member's key is no key");
    }

    // Ana, with her key, is still Ana.
    drop(ana);
    let ana = Viewer::join(&base, &id, "Ana", Some(&host)).await;
    assert_eq!(ana.member, host.member);
    assert_eq!(ana.member_key, None, "a rejoin keeps the key it has");
}

/// Review item 15: a session link is what admits a guest, so it must not be guessable: at
/// least 128 random bits (26 symbols of 31).
async fn session_links_cannot_be_guessed(app: TestApp) {
    let mut seen = std::collections::HashSet::new();
    for _ in 0..5 {
        let (id, _) = create_session(&app, "101", "Ana").await;
        let bits = id.len() as f64 * 31f64.log2();
        assert!(bits >= 128.0, "{id}: {bits:.0} bits");
        assert!(seen.insert(id));
    }
}

/// Review items 12 and 13: a page on another site (a sibling subdomain included) that makes
/// Ana's browser send a request carries her cookies. Any such request that changes something
/// (server functions, the JSON API, stopping a transcode, signing out) or opens the WebSocket is
/// refused; the same request from Marquee's own page goes through.
async fn another_site_cannot_act_with_a_viewers_cookies(w: World) {
    let app = &w.app;
    let ana = w.web_sign_in(&w.ana).await;
    let own = app.running.url();
    let (token, _) = app.transcode("102", 0);
    let stop = format!("/hls/102/0/stop/{token}");
    let posts = [
        (
            "/api/session/create",
            "application/x-www-form-urlencoded",
            "rating_key=101&name=Ana".to_owned(),
        ),
        (
            "/api/sessions",
            "application/json",
            json!({"rating_key": "101", "name": "Ana"}).to_string(),
        ),
        (stop.as_str(), "text/plain", String::new()),
        (
            "/auth/logout",
            "application/x-www-form-urlencoded",
            String::new(),
        ),
    ];
    for (path, kind, body) in &posts {
        for origin in [
            "https://evil.example",
            "https://cinema.evil.example",
            "null",
        ] {
            let r = w
                .http
                .post(app.url(path))
                .header(COOKIE, &ana)
                .header("origin", origin)
                .header("content-type", *kind)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "{path} from {origin}");
            let body: serde_json::Value = r.json().await.unwrap();
            assert_eq!(body["error"], "cross_site");
        }
        let r = w
            .http
            .post(app.url(path))
            .header(COOKIE, &ana)
            .header("sec-fetch-site", "cross-site")
            .header("content-type", *kind)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{path} with Sec-Fetch-Site: cross-site");
    }
    let r = w
        .http
        .post(app.url("/api/session/create"))
        .header(COOKIE, &ana)
        .header("origin", &own)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("rating_key=101&name=Ana")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "from Marquee's own page");

    // The WebSocket: a cross-site upgrade with the cookie is refused before it is upgraded.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let (id, _) = create_session(app, "101", "Host").await;
    let url = format!("{}/ws/session/{id}", own.replace("http://", "ws://"));
    let mut request = url.clone().into_client_request().unwrap();
    request.headers_mut().insert("cookie", ana.parse().unwrap());
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 403),
        other => panic!("a cross-site upgrade with cookies was not refused: {other:?}"),
    }
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("cookie", ana.parse().unwrap());
    request.headers_mut().insert("origin", own.parse().unwrap());
    assert!(tokio_tungstenite::connect_async(request).await.is_ok());
}

/// Review item 16: Ben, signed in, says hello as "ana": the others see "ben".
async fn a_signed_in_person_keeps_their_discord_name(w: World) {
    use futures::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let app = &w.app;
    let ben = w.web_sign_in(&w.ben).await;
    let (id, _) = create_session(app, "101", "Host").await;
    let url = format!(
        "{}/ws/session/{id}",
        app.running.url().replace("http://", "ws://")
    );
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("cookie", ben.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let hello = json!({"type": "hello", "protocol": 1, "name": "ana"});
    ws.send(Message::Text(hello.to_string().into()))
        .await
        .unwrap();
    let welcome = crate::helpers::viewer::recv_msg(&mut ws).await;
    let marquee_sync::ServerMsg::Welcome {
        member, session, ..
    } = welcome
    else {
        panic!("expected a welcome, got {welcome:?}");
    };
    assert_eq!(member, format!("discord-{}", w.ben.id));
    assert_eq!(session.member(&member).unwrap().name, "ben");
    assert!(session.members.iter().all(|m| m.name != "ana"));
}

/// Review item 6: every `status` carries the latest clock round trip; one that only jitters
/// costs no database write and no broadcast to the others.
async fn round_trip_reports_do_not_write_the_session_each_time(app: TestApp) {
    let (id, host) = create_session(&app, "101", "Ana").await;
    let base = app.running.url();
    let _ana = Viewer::join(&base, &id, "Ana", Some(&host)).await;
    let mut ben = Viewer::join(&base, &id, "Ben", None).await;
    ben.send(json!({"type": "status", "buffering": false, "rtt_ms": 100.0}))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let before = crate::helpers::viewer::snapshot(&app, &id).await.version;
    for i in 0..30 {
        let rtt = 100.0 + f64::from(i % 7) * 2.0 - 6.0;
        ben.send(json!({"type": "status", "buffering": false, "rtt_ms": rtt}))
            .await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let after = crate::helpers::viewer::snapshot(&app, &id).await.version;
    assert_eq!(
        after,
        before,
        "30 jittering reports wrote the session {} times",
        after - before
    );
}

/// Review item 11: server functions read the whole body they are sent. A body over 64 KiB is
/// refused, announced (`Content-Length`) or streamed.
async fn oversized_bodies_are_refused_unread(app: TestApp) {
    let big = format!("query={}", "a".repeat(200 * 1024));
    let r = app
        .client
        .post(app.url("/api/search"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "too_large");
    let chunks = futures::stream::iter(
        big.into_bytes()
            .chunks(8 * 1024)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let streamed = app
        .client
        .post(app.url("/api/search"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await;
    let r = streamed.unwrap();
    assert_eq!(r.status(), 413, "a streamed body is cut too");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "too_large");
    let r = app
        .client
        .post(app.url("/api/search"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("query=harbor")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
