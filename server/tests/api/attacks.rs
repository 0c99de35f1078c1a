//! The outside security review's attacks, each performed against a running Marquee: a test
//! here passes only while the door it tries stays shut.

use marquee_fakes::discord::FakeUser;
use marquee_sync::Role;
use reqwest::header::COOKIE;
use serde_json::json;

use crate::activity::{World, world};
use crate::helpers::viewer::{Rejoin, Viewer, create_session};
use crate::helpers::{Mode, TestApp, both_modes, spawn_app, spawn_app_with};
use marquee_store::secret::TranscodeOwner;

both_modes! {
    spawn_app => [
        a_guest_cannot_take_another_members_place,
        session_links_cannot_be_guessed,
        round_trip_reports_do_not_write_the_session_each_time,
        oversized_bodies_are_refused_unread,
    ],
    capped_transcodes => [
        transcodes_are_capped_shared_and_stopped_when_idle,
    ],
    limited_api => [
        admin_token_guesses_are_rate_limited,
    ],
    tight_connections => [
        sockets_are_capped_per_address,
        slow_and_idle_connections_are_cut,
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
        ("/api/watched", "key=101&watched=true"),
        ("/api/plex-link/start", ""),
        ("/api/plex-link/status", ""),
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
    assert!(
        !app.plex()
            .requests()
            .iter()
            .any(|r| r.path().starts_with("/:/scrobble")),
        "a stranger marked nothing watched"
    );
    for path in [
        "/media/101/0/0",
        "/hls/102/0/start.m3u8",
        "/hls/102/0/start.m3u8?session=0123456789abcdef",
        "/img/101/thumb/1?w=240&h=360",
        "/previews/101/0/0/60000",
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
/// refused, announced (`Content-Length`) or streamed, without waiting for the rest of it.
///
/// The announced body is never sent: a server that waited for it would not answer at all.
async fn oversized_bodies_are_refused_unread(app: TestApp) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let within = std::time::Duration::from_secs(5);

    // Announced: 200 KiB promised, not a byte of it sent.
    let mut announced = tokio::net::TcpStream::connect(app.running.addr)
        .await
        .unwrap();
    announced
        .write_all(
            b"POST /api/search HTTP/1.1\r\nHost: marquee\r\n\
              Content-Type: application/x-www-form-urlencoded\r\n\
              Content-Length: 204800\r\n\r\nquery=",
        )
        .await
        .unwrap();
    // The answer, and then the server closing the connection.
    let mut answer = Vec::new();
    tokio::time::timeout(within, announced.read_to_end(&mut answer))
        .await
        .expect("an announced 200 KiB body was waited for")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // The unread body makes the connection useless: saying so keeps a client from sending
    // its next request down it.
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(answer.contains("\"too_large\""), "{answer}");

    // Streamed: 200 KiB in chunks, no length announced. The server reads past the bound
    // (dropping the rest) and then answers, so the sender is not cut off mid-write.
    let sent =
        futures::stream::iter((0..25).map(|_| Ok::<_, std::io::Error>(vec![b'a'; 8 * 1024])));
    let streamed = app
        .client
        .post(app.url("/api/search"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(sent))
        .send();
    let r = tokio::time::timeout(within, streamed)
        .await
        .expect("a streamed body past the limit was waited for")
        .unwrap();
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

/// A server whose transcode limits are small enough to reach in a test: 3 at once, 2 for one
/// person (or address), stopped after 5 s without a fetch or a ping.
async fn capped_transcodes(mode: crate::helpers::Mode) -> TestApp {
    spawn_app_with(mode, |c| {
        c.max_transcodes = 3;
        c.max_transcodes_per_person = 2;
        c.transcode_idle_secs = 5;
    })
    .await
}

const START: &str = "/video/:/transcode/universal/start.m3u8";

/// Review item 4: every `start.m3u8` used to start a Plex transcode. Now a stranger's loop
/// of starts gets one transcode (shared), an owner gets at most two, the server at most
/// three, and a transcode nobody uses is stopped on Plex and answers 410.
async fn transcodes_are_capped_shared_and_stopped_when_idle(app: TestApp) {
    let plex = app.plex();
    let start = |(_, path): (String, String)| {
        let app = &app;
        async move { app.get(&path).await }
    };
    // A loop of fresh watch-page tokens for one item, from one address: one Plex transcode.
    let (first, first_path) = app.transcode("102", 0);
    let r = app.get(&first_path).await;
    assert_eq!(r.status(), 200);
    let master = r.text().await.unwrap();
    assert!(
        master.contains(&format!("session/{first}/base/")),
        "{master}"
    );
    for _ in 0..5 {
        let (token, path) = app.transcode("102", 0);
        let r = app.get(&path).await;
        assert_eq!(r.status(), 200);
        let text = r.text().await.unwrap();
        assert!(
            text.contains(&format!("session/{token}/base/")),
            "each viewer is named in its own master: {text}"
        );
    }
    assert_eq!(plex.request_count(START), 1, "one Plex transcode");

    // A second item is a second transcode; a third is over the per-person cap.
    let (second, second_path) = app.transcode("101", 0);
    assert_eq!(app.get(&second_path).await.status(), 200);
    let r = start(app.transcode("103", 0)).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "too_many_transcodes");
    assert!(
        body["message"].as_str().unwrap().contains("one person"),
        "{body}"
    );
    assert_eq!(
        plex.request_count(START),
        2,
        "no transcode for a refused start"
    );

    // Signed-in people count as themselves; the server's cap holds for everyone.
    let ana = TranscodeOwner::Person(7);
    let ben = TranscodeOwner::Person(8);
    let (third, third_path) = app.transcode_for("104", 0, &ana);
    assert_eq!(app.get(&third_path).await.status(), 200);
    let r = start(app.transcode_for("105", 0, &ben)).await;
    assert_eq!(r.status(), 429);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("on this Marquee"),
        "{body}"
    );
    assert_eq!(plex.request_count(START), 3);

    // A rendition's last viewer leaving frees its place at once.
    let r = app
        .client
        .post(app.url(&format!("/hls/104/0/stop/{third}/base")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (_, ben_path) = app.transcode_for("105", 0, &ben);
    assert_eq!(app.get(&ben_path).await.status(), 200);
    assert_eq!(plex.active_transcode_sessions().len(), 3);

    // The first is kept alive by its player's reports; the others are never used again.
    let report = format!("/hls/102/0/timeline/{first}/base?state=paused&time=1000");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let r = app.client.post(app.url(&report)).send().await.unwrap();
        assert_eq!(r.status(), 204, "a reported transcode stays");
        if plex.active_transcode_sessions().len() == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "an idle transcode was never stopped"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let index = app
        .get(&format!("/hls/101/0/session/{second}/base/index.m3u8"))
        .await;
    assert_eq!(index.status(), 410, "a stopped transcode says so");
    let body: serde_json::Value = index.json().await.unwrap();
    assert_eq!(body["error"], "transcode_stopped");
    // The survivor is the one reported on.
    let r = app
        .get(&format!("/hls/102/0/session/{first}/base/index.m3u8"))
        .await;
    assert_eq!(r.status(), 200);
    // Its place is free again.
    let (_, again) = app.transcode("103", 0);
    assert_eq!(app.get(&again).await.status(), 200);
}

/// A server with small connection limits: 3 WebSockets per address, 8 connections, 2 s to
/// send a request's headers.
async fn tight_connections(mode: crate::helpers::Mode) -> TestApp {
    spawn_app_with(mode, |c| {
        c.max_sockets_per_address = 3;
        c.max_connections = 8;
        c.header_read_timeout_secs = 2;
    })
    .await
}

/// Review item 6: `/ws` had no per-address cap, so one address could hold any number of
/// sockets (each a task, buffers and a room place).
async fn sockets_are_capped_per_address(app: TestApp) {
    let (session, _) = create_session(&app, "101", "Host").await;
    let url = format!(
        "{}/ws/session/{session}",
        app.running.url().replace("http://", "ws://")
    );
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(
            tokio_tungstenite::connect_async(url.as_str())
                .await
                .unwrap()
                .0,
        );
    }
    match tokio_tungstenite::connect_async(url.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 429);
            let body = String::from_utf8(response.body().clone().unwrap_or_default()).unwrap();
            assert!(body.contains("too_many_sockets"), "{body}");
        }
        Err(other) => panic!("refused the wrong way: {other}"),
        Ok(_) => panic!("a fourth socket from one address was let in"),
    }
    drop(open.pop());
    // The place comes back once the server sees the close.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        if tokio_tungstenite::connect_async(url.as_str()).await.is_ok() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a closed socket kept its place"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Review item 11: no header-read deadline and no connection cap, so a client trickling one
/// header byte at a time (slowloris), or simply holding connections open, could use up the
/// server.
async fn slow_and_idle_connections_are_cut(app: TestApp) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.running.addr;
    // One header line every 300 ms: cut at the 2 s deadline, however long it keeps trickling.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: marquee\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut buf = [0u8; 512];
    loop {
        if slow.write_all(b"X-Slow: 1\r\n").await.is_err() {
            break;
        }
        match tokio::time::timeout(std::time::Duration::from_millis(300), slow.read(&mut buf)).await
        {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(_)) => {} // a 408, then the close
            Err(_) => {}
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(6),
            "a trickling client kept its connection"
        );
    }
    assert!(started.elapsed() >= std::time::Duration::from_millis(1500));

    // Eight idle connections fill the server; a ninth is closed at once...
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let fresh = || {
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(std::time::Duration::from_secs(2))
            .build()
            .unwrap()
    };
    let refused = fresh().get(app.url("/healthz")).send().await;
    assert!(refused.is_err(), "a connection past the cap was served");
    // ...until the idle ones reach the header deadline and are cut.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    for mut c in idle {
        let n = tokio::time::timeout(std::time::Duration::from_secs(2), c.read(&mut buf))
            .await
            .expect("an idle connection was not cut")
            .unwrap_or(0);
        let _ = n;
    }
    let r = fresh().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

/// Review item 7: every page number up to 2^32 made a Plex call and a cache entry, the
/// in-process cache had no bound, and pages had no rate limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strangers_keys_neither_fill_the_cache_nor_reach_plex() {
    let app = spawn_app_with(Mode::Embedded, |c| {
        c.cache_memory_mb = 1;
        c.page_rate_per_minute = 60;
        c.page_rate_burst = 12;
    })
    .await;
    let plex = app.plex();
    let listing = "/library/sections/3/all";
    let (status, first) = app.text("/library/3").await;
    assert_eq!(status, 200);
    let pages: u32 = first
        .split("Page 1 of ")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .and_then(|n| n.parse().ok())
        .expect("the archive has several pages");
    let last = format!("Page {pages} of {pages}");
    assert!(
        app.text(&format!("/library/3?page={pages}"))
            .await
            .1
            .contains(&last)
    );
    let before = plex.request_count(listing);
    for page in [pages + 1, 99, 4_000_000_000u32, 77_777, 123_456] {
        let (status, body) = app.text(&format!("/library/3?page={page}")).await;
        assert_eq!(status, 200);
        assert!(body.contains(&last), "page {page} is the last page");
    }
    assert_eq!(
        plex.request_count(listing),
        before,
        "pages past the end cost Plex nothing"
    );

    // Server-rendered pages are rate limited per address too.
    let mut limited = None;
    for i in 0..20 {
        let r = app.get("/library/1").await;
        if r.status() == 429 {
            limited = Some(i);
            assert!(r.headers().contains_key("retry-after"));
            break;
        }
    }
    assert!(
        limited.is_some(),
        "twenty page loads at once were all served"
    );

    // Thousands of distinct long searches (about 3 MB of keys alone): the cache stays within
    // its megabyte, evicting.
    let library = &app.running.services.library;
    let padding = "x".repeat(90);
    for i in 0..6000 {
        library.search(&format!("{i} {padding}")).await.unwrap();
    }
    let stats = app.running.services.cache.stats();
    let bytes = stats.bytes.unwrap();
    assert!(bytes <= 1024 * 1024, "the cache holds {bytes} bytes");
    assert!(stats.entries.unwrap() < 6000, "{:?}", stats.entries);
}

/// A server whose JSON API allows a burst of 5 requests per address.
async fn limited_api(mode: crate::helpers::Mode) -> TestApp {
    spawn_app_with(mode, |c| {
        c.api_rate_per_minute = 60;
        c.api_rate_burst = 5;
    })
    .await
}

/// Review item 17: the admin routes (and `/metrics`, which the admin token opens) had no rate
/// limit, so the admin token could be guessed as fast as the network allows.
async fn admin_token_guesses_are_rate_limited(app: TestApp) {
    let guess = |path: &'static str, n: usize| {
        let app = &app;
        async move {
            let mut r = if path == "/metrics" {
                app.client.get(app.url(path))
            } else {
                app.client.post(app.url(path))
            };
            r = r.bearer_auth(format!("guess-number-{n}"));
            r.send().await.unwrap()
        }
    };
    for n in 0..5 {
        let path = if n % 2 == 0 {
            "/api/admin/cache/clear"
        } else {
            "/metrics"
        };
        assert_eq!(guess(path, n).await.status(), 401, "guess {n} on {path}");
    }
    for path in ["/api/admin/cache/clear", "/metrics"] {
        let r = guess(path, 99).await;
        assert_eq!(
            r.status(),
            429,
            "{path}: a sixth guess in a second is refused"
        );
        assert!(r.headers().contains_key("retry-after"), "{path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"], "rate_limited", "{path}");
    }
}
