//! Security headers on every kind of response: pages (with the nonce their inline script
//! carries), JSON, media, sign-in redirects and errors; framing allowed only for the Activity and
//! only by Discord; HSTS only when configured.

use crate::helpers::{Mode, spawn_app, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_carries_the_security_headers() {
    let app = spawn_app(Mode::Embedded).await;
    for path in [
        "/",
        "/library/1",
        "/watch/101",
        "/item/999999",
        "/api/sessions/nosuchsession",
        "/healthz",
        "/media/101/0/0",
        "/auth/login",
        "/api/me",
        "/pkg/marquee.css",
    ] {
        let r = app.get(path).await;
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            csp.contains("default-src 'self'") && csp.contains("object-src 'none'"),
            "{path}: {csp}"
        );
        assert!(
            !csp.contains("'unsafe-eval'") && !csp.contains("script-src 'self' 'unsafe-inline'"),
            "{path}: {csp}"
        );
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(
            h["referrer-policy"], "strict-origin-when-cross-origin",
            "{path}"
        );
        assert!(
            h.get("strict-transport-security").is_none(),
            "{path}: HSTS is opt-in"
        );
        assert!(
            h.get(app::SCRIPT_NONCE_HEADER).is_none(),
            "{path}: internal header removed"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_allows_exactly_its_own_inline_script() {
    let app = spawn_app(Mode::Embedded).await;
    let first = app.get("/").await;
    let csp = first.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = first.text().await.unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("a nonce in {csp}"));
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the inline script carries it"
    );
    let second = app.get("/").await;
    let again = second.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(!again.contains(nonce), "a fresh nonce per response");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_activity_may_be_framed_and_only_by_discord() {
    let app = spawn_app_with(Mode::Embedded, |c| {
        c.discord_client_id = Some("1100000000000000001".into());
        c.discord_client_secret = Some("secret".to_string().into());
        c.allowed_servers = Some("any".into());
    })
    .await;
    let launch = "frame_id=f1&instance_id=i-1&platform=desktop&channel_id=7";
    for path in [
        format!("/activity?{launch}"),
        "/activity/anything".to_owned(),
    ] {
        let r = app.get(&path).await;
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        // Review item 18: this application's Activity origin, not every application's.
        assert!(
            csp.contains("frame-ancestors 'self' https://discord.com https://*.discord.com https://1100000000000000001.discordsays.com"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("*.discordsays.com"), "{path}: {csp}");
        assert!(r.headers().get("x-frame-options").is_none(), "{path}");
    }

    // The Activity document: its inline bootstrap carries the nonce, and every URL in it is
    // relative, so it works under Discord's `/.proxy/` prefix.
    let r = app.get(&format!("/activity?{launch}")).await;
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = r.text().await.unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a script nonce");
    assert!(body.contains(&format!("nonce=\"{nonce}\"")), "{body}");
    assert!(body.contains("data-marquee=\"activity\""), "{body}");
    assert!(body.contains("href=\"./pkg/marquee.css\""), "{body}");
    assert!(body.contains("./pkg/marquee.js"), "{body}");
    for absolute in ["=\"/", "='/", "(\"/", "`/"] {
        assert!(
            !body.contains(absolute),
            "an absolute URL ({absolute}) in: {body}"
        );
    }

    // Discord launches the root of the URL mapping; that is sent on, relatively, to the Activity.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .get(app.url(&format!("/?{launch}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(
        r.headers()["location"],
        format!("activity?{launch}").as_str()
    );
    let home = http.get(app.url("/?q=frame_id")).send().await.unwrap();
    assert_ne!(
        home.status(),
        302,
        "an ordinary visit to / is not redirected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_behind_https() {
    let app = spawn_app_with(Mode::Embedded, |c| c.hsts = true).await;
    let r = app.get("/").await;
    assert_eq!(
        r.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
}
