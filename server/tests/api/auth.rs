//! Signing in with Discord against the fake Discord's OAuth2 endpoints, and Marquee's own tokens:
//! the login round trip, cookies, expiry and refresh, rotation and replay, tampering, bad codes,
//! rate limits and cross-site POSTs. Each flow runs in the embedded and the scale-out mode.

use marquee_fakes::discord::{FakeDiscord, FakeDiscordOptions, FakeUser};
use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use server::auth::tokens::{self, AccessKeys, Claims};

use crate::helpers;
use crate::helpers::{Mode, TestApp, both_modes, spawn_app_with};

struct World {
    app: TestApp,
    discord: FakeDiscord,
    http: reqwest::Client,
    ana: FakeUser,
}

async fn world(mode: Mode, adjust: impl FnOnce(&mut server::config::Config)) -> World {
    let discord = FakeDiscord::start(FakeDiscordOptions::default())
        .await
        .unwrap();
    let (id, secret, base) = (
        discord.application_id().to_string(),
        discord.client_secret().to_owned(),
        discord.base_url(),
    );
    let app = spawn_app_with(mode, move |c| {
        c.discord_client_id = Some(id);
        c.discord_client_secret = Some(secret.into());
        c.discord_api_url = Some(base);
        c.allowed_servers = Some("any".into());
        if c.redis_url.is_some() {
            c.jwt_secret = Some("a-shared-test-key-for-every-server".to_string().into());
        }
        adjust(c);
    })
    .await;
    let ana = FakeUser::new(900_000_000_000_000_001, "ana");
    discord.sign_in_as(Some(ana.clone()));
    World {
        app,
        discord,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        ana,
    }
}

/// [`world`] where one client may sign in many times in a row (the rate limit is not what the
/// test is about).
async fn roomy_world(mode: Mode) -> World {
    world(mode, |c| c.auth_rate_burst = 100).await
}

/// [`world`] with the default settings: what the tests that run in both modes start from.
async fn default_world(mode: Mode) -> World {
    world(mode, |_| {}).await
}

/// The cookies a response sets, as (name, value, full Set-Cookie line).
fn set_cookies(r: &reqwest::Response) -> Vec<(String, String, String)> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| {
            let line = v.to_str().unwrap().to_owned();
            let pair = line.split(';').next().unwrap();
            let (n, v) = pair.split_once('=').unwrap();
            (n.to_owned(), v.to_owned(), line)
        })
        .collect()
}

fn cookie<'a>(cookies: &'a [(String, String, String)], name: &str) -> &'a (String, String, String) {
    cookies
        .iter()
        .find(|c| c.0 == name)
        .unwrap_or_else(|| panic!("no {name} cookie in {cookies:?}"))
}

/// A cookie set the way the `__Host-` prefix demands (so a browser keeps it): its attributes
/// are exactly HttpOnly, Secure, the given SameSite, `Path=/` and a Max-Age; no `Domain`.
fn assert_host_cookie(c: &(String, String, String), same_site: &str) {
    assert!(c.0.starts_with("__Host-"), "{}", c.2);
    let same_site = format!("SameSite={same_site}");
    let mut attributes: Vec<&str> = c.2.split(';').skip(1).map(str::trim).collect();
    attributes.retain(|a| !a.starts_with("Max-Age="));
    attributes.sort_unstable();
    let mut expected = vec!["HttpOnly", "Secure", same_site.as_str(), "Path=/"];
    expected.sort_unstable();
    assert_eq!(attributes, expected, "{}", c.2);
}

struct Signed {
    access: String,
    refresh: String,
}

impl World {
    /// The whole browser round trip: Marquee → Discord's consent page → back to Marquee.
    async fn sign_in(&self) -> Signed {
        let (signed, back_to) = self.sign_in_returning_to("/library/1").await;
        assert_eq!(back_to, "/library/1");
        signed
    }

    /// The first half of a sign-in from `login` (a `/auth/login…` path): Marquee's redirect
    /// to Discord (checked), and Discord's back to the callback. The OAuth state Marquee set,
    /// and the callback URL with Discord's code.
    async fn begin_sign_in(&self, login: &str) -> (String, String) {
        let r = self.http.get(self.app.url(login)).send().await.unwrap();
        assert!(r.status().is_redirection(), "{}", r.status());
        let to_discord = r.headers()[LOCATION].to_str().unwrap().to_owned();
        assert!(
            to_discord.starts_with(&format!("{}/oauth2/authorize?", self.discord.base_url())),
            "{to_discord}"
        );
        assert!(to_discord.contains("scope=identify") && to_discord.contains("response_type=code"));
        let state_cookie = cookie(&set_cookies(&r), "__Host-marquee_oauth_state").clone();
        assert_host_cookie(&state_cookie, "Lax");
        let r = self.http.get(&to_discord).send().await.unwrap();
        let back = r.headers()[LOCATION].to_str().unwrap().to_owned();
        assert!(
            back.starts_with(&self.app.url("/auth/callback?code=")),
            "{back}"
        );
        (state_cookie.1, back)
    }

    /// The round trip started from `/auth/login?return_to=<return_to>` (sent as written): the
    /// sign-in, and where Marquee sent the browser at the end.
    async fn sign_in_returning_to(&self, return_to: &str) -> (Signed, String) {
        let (state, back) = self
            .begin_sign_in(&format!("/auth/login?return_to={return_to}"))
            .await;
        let r = self
            .http
            .get(&back)
            .header(COOKIE, format!("__Host-marquee_oauth_state={state}"))
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_redirection(),
            "{}: {}",
            r.status(),
            r.text().await.unwrap()
        );
        let back_to = r.headers()[LOCATION].to_str().unwrap().to_owned();
        let cookies = set_cookies(&r);
        let access = cookie(&cookies, "__Host-marquee_access");
        let refresh = cookie(&cookies, "__Host-marquee_refresh");
        assert_host_cookie(access, "Lax");
        assert_host_cookie(refresh, "Strict");
        (
            Signed {
                access: access.1.clone(),
                refresh: refresh.1.clone(),
            },
            back_to,
        )
    }

    async fn me(&self, access: &str) -> (u16, serde_json::Value) {
        let r = self
            .http
            .get(self.app.url("/api/me"))
            .header(COOKIE, format!("__Host-marquee_access={access}"))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn refresh(&self, refresh: &str) -> reqwest::Response {
        self.http
            .post(self.app.url("/auth/refresh"))
            .header(COOKIE, format!("__Host-marquee_refresh={refresh}"))
            .header(ORIGIN, self.app.running.url())
            .send()
            .await
            .unwrap()
    }

    /// The server's signing key (generated into its data dir, or the shared configured one).
    fn keys(&self) -> AccessKeys {
        let key = match &self.app.running.config.jwt_secret {
            Some(k) => secrecy::ExposeSecret::expose_secret(k).to_owned(),
            None => std::fs::read_to_string(self.app.running.config.data_dir.join("jwt-key"))
                .unwrap()
                .trim()
                .to_owned(),
        };
        AccessKeys::new(key.as_bytes(), std::time::Duration::from_secs(900))
    }
}

both_modes! {
    default_world => [
        signing_in_sets_cookies_and_names_the_user,
        an_expired_access_token_is_refreshed_and_the_refresh_token_rotates,
        a_replayed_refresh_token_revokes_the_whole_sign_in,
        tampered_or_foreign_tokens_are_refused,
        bad_codes_and_cancelled_sign_ins_get_a_clear_page,
        signing_out_ends_the_sign_in,
        two_tabs_refresh_at_once_and_signing_out_ends_everything,
        cross_site_posts_are_refused,
        a_signed_in_viewer_joins_as_their_discord_member_and_nobody_else_can,
        with_guests_off_a_share_link_shows_a_stranger_nothing,
    ],
    roomy_world => [
        sign_in_never_returns_to_another_site,
        cookies_tossed_from_a_sibling_subdomain_are_ignored,
    ],
}

/// Joins a session over the WebSocket (with `cookie`, if any) and returns the member id the
/// welcome gave, or the error code of a refusal.
async fn join_ws(
    w: &World,
    session: &str,
    cookie: Option<&str>,
    member: Option<&str>,
) -> Result<String, String> {
    open_ws(w, session, cookie, member).await.0
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// [`join_ws`], keeping the socket open.
async fn open_ws(
    w: &World,
    session: &str,
    cookie: Option<&str>,
    member: Option<&str>,
) -> (Result<String, String>, Socket) {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!(
        "{}/ws/session/{session}",
        w.app.running.url().replace("http://", "ws://")
    );
    let mut request = url.into_client_request().unwrap();
    if let Some(c) = cookie {
        request.headers_mut().insert("cookie", c.parse().unwrap());
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let hello =
        serde_json::json!({"type": "hello", "protocol": 1, "name": "Someone", "member": member});
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        hello.to_string().into(),
    ))
    .await
    .unwrap();
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
            if v["type"] == "welcome" {
                return (Ok(v["member"].as_str().unwrap().to_owned()), ws);
            }
            if v["type"] == "error" {
                return (Err(v["code"].as_str().unwrap().to_owned()), ws);
            }
        }
    }
}

/// Signed in, the WebSocket joins as the user's Discord member (the one the bot names); an
/// anonymous page cannot claim that member by sending its id.
async fn a_signed_in_viewer_joins_as_their_discord_member_and_nobody_else_can(w: World) {
    let r = w
        .http
        .post(w.app.url("/api/sessions"))
        .bearer_auth(secrecy::ExposeSecret::expose_secret(
            &w.app.running.admin_token,
        ))
        .json(&serde_json::json!({"rating_key": "101", "name": "Host"}))
        .send()
        .await
        .unwrap();
    let session = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let signed = w.sign_in().await;
    let mine = format!("discord-{}", w.ana.id);
    let cookie = format!("__Host-marquee_access={}", signed.access);
    assert_eq!(
        join_ws(&w, &session, Some(&cookie), None).await,
        Ok(mine.clone())
    );
    // With sign-in set up, guests are off unless allowed: the share link alone admits nobody.
    assert_eq!(
        join_ws(&w, &session, None, None).await,
        Err("sign_in_required".into())
    );
    // Where guests are allowed, one still cannot claim ana's member by sending its id.
    let mode = w.app.mode();
    let guests = world(mode, |c| c.guests = Some(true)).await;
    let r = guests
        .http
        .post(guests.app.url("/api/sessions"))
        .json(&serde_json::json!({"rating_key": "101", "name": "Host"}))
        .send()
        .await
        .unwrap();
    let open = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stranger = join_ws(&guests, &open, None, Some(&mine)).await.unwrap();
    assert_ne!(stranger, mine, "a guest cannot become ana");
}

/// With guests off, the share link's page asks a stranger to sign in and shows nothing of the
/// session (not its title, not who watches); the JSON API refuses them too, and they cannot
/// start a session. Signed in, the same page shows the session.
async fn with_guests_off_a_share_link_shows_a_stranger_nothing(w: World) {
    let admin = secrecy::ExposeSecret::expose_secret(&w.app.running.admin_token).to_owned();
    let r = w
        .http
        .post(w.app.url("/api/sessions"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"rating_key": "101", "name": "Hostess Zelda"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = format!("/session/{id}");

    let (status, html) = w.app.text(&page).await;
    assert_eq!(status, 401);
    assert!(html.contains("Sign in to watch"), "{html}");
    assert!(
        html.contains(&format!("/auth/login?return_to=/session/{id}")),
        "{html}"
    );
    assert!(!html.contains("Hostess Zelda") && !html.contains("Harbor Lights"));
    for r in [
        w.http.get(w.app.url(&format!("/api/sessions/{id}"))),
        w.http
            .post(w.app.url("/api/sessions"))
            .json(&serde_json::json!({"rating_key": "101", "name": "Mallory"})),
    ] {
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 401);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"], "sign_in_required", "{body}");
    }

    let signed = w.sign_in().await;
    let r = w
        .http
        .get(w.app.url(&page))
        .header(COOKIE, format!("__Host-marquee_access={}", signed.access))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Hostess Zelda") && !html.contains("Sign in to watch"));
}

/// Review item 5: `return_to` is the sign-in's way back. A browser strips a tab from
/// `/\t/evil.example`, leaving `//evil.example` (another site); `;` would add attributes to the
/// state cookie it travels in. Each comes back to Marquee's own `/`.
async fn sign_in_never_returns_to_another_site(w: World) {
    for attack in [
        "/%09/evil.example",
        "//evil.example",
        "/%5Cevil.example",
        "https://evil.example/",
        "/.//evil.example",
        "/x;Domain=evil.example;Path=/",
        "/x%3BDomain=evil.example",
    ] {
        let (_, back_to) = w.sign_in_returning_to(attack).await;
        assert_eq!(back_to, "/", "{attack}");
    }
    let (_, back_to) = w.sign_in_returning_to("/search?q=harbor").await;
    assert_eq!(back_to, "/search?q=harbor");
}

async fn signing_in_sets_cookies_and_names_the_user(w: World) {
    let signed = w.sign_in().await;
    let (status, me) = w.me(&signed.access).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["name"], "ana");
    assert_eq!(me["discord_id"], w.ana.id.to_string());
    let stored = w
        .app
        .running
        .services
        .store
        .user_by_discord_id(&w.ana.id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.username, "ana");
    let audit = crate::operations::audit_until(&w.app, "action=sign_in", |e| !e.is_empty()).await;
    assert_eq!(audit[0]["actor"], "ana");
    assert_eq!(audit[0]["actor_id"], format!("discord-{}", w.ana.id));
    // Not signed in at all:
    let r = w.http.get(w.app.url("/api/me")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "not_signed_in");
}

async fn an_expired_access_token_is_refreshed_and_the_refresh_token_rotates(w: World) {
    let signed = w.sign_in().await;
    let (_, me) = w.me(&signed.access).await;
    let now = chrono::Utc::now().timestamp();
    let expired = w.keys().sign(&Claims {
        sub: me["id"].as_i64().unwrap().to_string(),
        did: w.ana.id.to_string(),
        name: "ana".into(),
        allowed: true,
        iat: now - 1000,
        exp: now - 1,
        iss: tokens::ISSUER.into(),
        aud: tokens::AUDIENCE.into(),
        sid: String::new(),
    });
    let (status, body) = w.me(&expired).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("token_expired"))
    );

    let r = w.refresh(&signed.refresh).await;
    assert_eq!(r.status(), 200);
    let cookies = set_cookies(&r);
    let access = cookie(&cookies, "__Host-marquee_access").1.clone();
    let refresh = cookie(&cookies, "__Host-marquee_refresh").1.clone();
    assert_ne!(refresh, signed.refresh, "the refresh token rotates");
    let (status, me) = w.me(&access).await;
    assert_eq!((status, me["name"].as_str()), (200, Some("ana")));
    // The new refresh token works in turn.
    assert_eq!(w.refresh(&refresh).await.status(), 200);
}

async fn a_replayed_refresh_token_revokes_the_whole_sign_in(w: World) {
    let signed = w.sign_in().await;
    let r = w.refresh(&signed.refresh).await;
    let next = cookie(&set_cookies(&r), "__Host-marquee_refresh").1.clone();
    // The browser moves on...
    let r = w.refresh(&next).await;
    assert_eq!(r.status(), 200);
    let newer = cookie(&set_cookies(&r), "__Host-marquee_refresh").1.clone();
    // ...then someone presents the first one again.
    let r = w.refresh(&signed.refresh).await;
    assert_eq!(r.status(), 401);
    let cleared = set_cookies(&r);
    assert!(
        cookie(&cleared, "__Host-marquee_access")
            .2
            .contains("Max-Age=0")
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "refresh_reused");
    // ...and the legitimate newer token is dead too.
    let r = w.refresh(&newer).await;
    assert_eq!(r.status(), 401);
    // A fresh sign-in is unaffected.
    let again = w.sign_in().await;
    assert_eq!(w.refresh(&again.refresh).await.status(), 200);
}

/// Claims for Ana (user 1) valid for ten minutes, from the given issuer for the audience.
fn ana_claims(w: &World, iss: &str, aud: &str) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: "1".into(),
        did: w.ana.id.to_string(),
        name: "ana".into(),
        allowed: true,
        iat: now,
        exp: now + 600,
        iss: iss.into(),
        aud: aud.into(),
        sid: String::new(),
    }
}

async fn tampered_or_foreign_tokens_are_refused(w: World) {
    let signed = w.sign_in().await;
    let mut parts: Vec<String> = signed.access.split('.').map(str::to_owned).collect();
    // Flip one character of the payload: the signature no longer matches.
    let payload = &mut parts[1];
    let last = payload.pop().unwrap();
    payload.push(if last == 'A' { 'B' } else { 'A' });
    let tampered = parts.join(".");
    let (status, body) = w.me(&tampered).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token"))
    );

    let foreign = AccessKeys::new(
        b"some other server's key",
        std::time::Duration::from_secs(900),
    )
    .sign(&ana_claims(&w, tokens::ISSUER, tokens::AUDIENCE));
    let (status, body) = w.me(&foreign).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token"))
    );
    // Review item 9: the right key, but a token made for something else (another issuer or
    // audience, or none) is not a Marquee access token.
    for (iss, aud) in [
        ("marquee", "other-service"),
        ("someone-else", "marquee-access"),
        ("", ""),
    ] {
        let token = w.keys().sign(&ana_claims(&w, iss, aud));
        let (status, body) = w.me(&token).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_token")),
            "iss {iss:?}, aud {aud:?}"
        );
    }
    let (status, _) = w.me("not-a-jwt").await;
    assert_eq!(status, 401);
}

async fn bad_codes_and_cancelled_sign_ins_get_a_clear_page(w: World) {
    let start = w.http.get(w.app.url("/auth/login")).send().await.unwrap();
    let state = cookie(&set_cookies(&start), "__Host-marquee_oauth_state")
        .1
        .clone();
    let nonce = state.split('|').next().unwrap().to_owned();
    let callback = |query: String| {
        w.http
            .get(w.app.url(&format!("/auth/callback?{query}")))
            .header(COOKIE, format!("__Host-marquee_oauth_state={state}"))
            .send()
    };
    // A code Discord never issued (or one already used, or expired).
    let r = callback(format!("code=bogus&state={nonce}")).await.unwrap();
    assert_eq!(r.status(), 400);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("The sign-in code is invalid or has expired; please sign in again."),
        "{page}"
    );
    assert!(page.contains("href=\"/auth/login\""), "a way to try again");
    // The person pressed Cancel on Discord.
    let r = callback(format!("error=access_denied&state={nonce}"))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("You cancelled the sign-in on Discord.")
    );
    // A callback that is not the one this browser started.
    let r = callback("code=x&state=someone-elses".into()).await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("state mismatch"));
    // No state cookie at all (another browser, or it expired).
    let r = w
        .http
        .get(w.app.url(&format!("/auth/callback?code=x&state={nonce}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("has expired or was opened in another browser")
    );
    // Nothing was signed in along the way.
    assert!(
        w.app
            .running
            .services
            .store
            .user_by_discord_id(&w.ana.id.to_string())
            .await
            .unwrap()
            .is_none()
    );
}

/// Review item 14: two tabs refreshing at the same moment used to look like a replay and sign
/// the person out everywhere. Now both get the same new pair; and signing out ends the
/// sign-in's access tokens and open WebSockets at once, not when they expire.
async fn two_tabs_refresh_at_once_and_signing_out_ends_everything(w: World) {
    let signed = w.sign_in().await;
    let (a, b) = tokio::join!(w.refresh(&signed.refresh), w.refresh(&signed.refresh));
    assert_eq!(
        (a.status().as_u16(), b.status().as_u16()),
        (200, 200),
        "both tabs stay signed in"
    );
    let (ca, cb) = (set_cookies(&a), set_cookies(&b));
    let refresh = cookie(&ca, "__Host-marquee_refresh").1.clone();
    assert_eq!(
        refresh,
        cookie(&cb, "__Host-marquee_refresh").1,
        "one successor"
    );
    let access = cookie(&ca, "__Host-marquee_access").1.clone();
    assert_eq!(
        w.refresh(&refresh).await.status(),
        200,
        "the successor works"
    );

    // A tab's WebSocket, joined with the access cookie.
    let (session, _) = crate::helpers::viewer::create_session(&w.app, "101", "Host").await;
    let cookie_header = format!("__Host-marquee_access={access}");
    let (joined, mut ws) = open_ws(&w, &session, Some(&cookie_header), None).await;
    assert_eq!(joined, Ok(format!("discord-{}", w.ana.id)));
    assert_eq!(w.me(&access).await.0, 200);

    let r = w
        .http
        .post(w.app.url("/auth/logout"))
        .header(COOKIE, format!("__Host-marquee_refresh={refresh}"))
        .header(ORIGIN, w.app.running.url())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, body) = w.me(&access).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("signed_out")),
        "the access token is dead before it expires"
    );
    let closed = tokio::time::timeout(std::time::Duration::from_secs(15), async {
        use futures::StreamExt;
        while let Some(Ok(msg)) = ws.next().await {
            if let tokio_tungstenite::tungstenite::Message::Close(frame) = msg {
                return frame.map(|f| u16::from(f.code));
            }
        }
        None
    })
    .await
    .expect("the WebSocket was not closed after the sign-out");
    assert_eq!(closed, Some(4401), "closed as a sign-in that ended");
}

async fn signing_out_ends_the_sign_in(w: World) {
    let signed = w.sign_in().await;
    let r = w
        .http
        .post(w.app.url("/auth/logout"))
        .header(COOKIE, format!("__Host-marquee_refresh={}", signed.refresh))
        .header(ORIGIN, w.app.running.url())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cleared = set_cookies(&r);
    assert!(
        cookie(&cleared, "__Host-marquee_refresh")
            .2
            .contains("Max-Age=0")
    );
    assert_eq!(w.refresh(&signed.refresh).await.status(), 401);
}

async fn cross_site_posts_are_refused(w: World) {
    let signed = w.sign_in().await;
    for (header, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let r = w
            .http
            .post(w.app.url("/auth/logout"))
            .header(COOKIE, format!("__Host-marquee_refresh={}", signed.refresh))
            .header(header, value)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{header}: {value}");
    }
    // The sign-in survived both attempts.
    assert_eq!(w.refresh(&signed.refresh).await.status(), 200);
}

/// Too many sign-in requests from one address: 429 with Retry-After.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_requests_are_rate_limited() {
    let w = world(Mode::Embedded, |c| {
        c.auth_rate_per_minute = 6;
        c.auth_rate_burst = 3;
    })
    .await;
    for _ in 0..3 {
        let r = w.http.get(w.app.url("/auth/login")).send().await.unwrap();
        assert!(r.status().is_redirection());
    }
    let r = w.http.get(w.app.url("/auth/login")).send().await.unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&wait), "{wait}");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited");
    // Pages are not limited by it.
    assert_eq!(w.app.get("/healthz").await.status(), 200);
}

/// Server functions and the JSON API are limited per address too; pages and media are not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_functions_and_the_api_are_rate_limited() {
    let w = world(Mode::Embedded, |c| {
        c.api_rate_per_minute = 60;
        c.api_rate_burst = 5;
    })
    .await;
    // A server function (the search box's) and the JSON API share the address's budget.
    for path in ["/api/search?query=harbor", "/api/sessions/nosuchsession"]
        .repeat(3)
        .iter()
        .take(5)
    {
        let r = w.http.post(w.app.url(path)).send().await.unwrap();
        assert_ne!(r.status(), 429, "{path}");
    }
    let r = w
        .http
        .get(w.app.url("/api/sessions/nosuchsession"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited");
    assert_ne!(
        w.app.get("/library/1").await.status(),
        429,
        "pages are not limited"
    );
}

/// Without a Discord client id and secret, sign-in says it is not set up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_without_configuration_says_so() {
    let app = helpers::spawn_app(Mode::Embedded).await;
    let (status, page) = app.text("/auth/login").await;
    assert_eq!(status, 404);
    assert!(page.contains("not set up on this server"), "{page}");
}

/// Review item 8: behind a TLS proxy every user arrives from the proxy's address, so one
/// client could use up everyone's sign-in limit. With the proxy trusted, each client counts
/// alone (IPv6 by /64); a client that writes its own `X-Forwarded-For` gains nothing; and
/// without `MARQUEE_TRUSTED_PROXIES` the header is ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_client_has_its_own_limit() {
    async fn login(w: &World, forwarded_for: &str) -> u16 {
        w.http
            .get(w.app.url("/auth/login"))
            .header("x-forwarded-for", forwarded_for)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
    let limited = |c: &mut server::config::Config| {
        c.auth_rate_per_minute = 6;
        c.auth_rate_burst = 3;
    };
    let w = world(Mode::Embedded, |c| {
        limited(c);
        c.trusted_proxies = Some("127.0.0.1".into());
    })
    .await;
    for _ in 0..3 {
        assert_eq!(login(&w, "203.0.113.66").await, 303);
    }
    assert_eq!(
        login(&w, "203.0.113.66").await,
        429,
        "Eve used up her own limit"
    );
    assert_eq!(
        login(&w, "198.51.100.1, 203.0.113.66").await,
        429,
        "an address she writes in front of the proxy's does not reset it"
    );
    assert_eq!(login(&w, "198.51.100.7").await, 303, "Ana still signs in");
    for _ in 0..3 {
        assert_eq!(login(&w, "2001:db8:1:2::1").await, 303);
    }
    assert_eq!(
        login(&w, "2001:db8:1:2::ffff").await,
        429,
        "one /64 is one client"
    );
    assert_eq!(login(&w, "2001:db8:1:3::1").await, 303);

    let untrusting = world(Mode::Embedded, limited).await;
    for i in 0..3 {
        assert_eq!(login(&untrusting, &format!("192.0.2.{i}")).await, 303);
    }
    assert_eq!(
        login(&untrusting, "192.0.2.99").await,
        429,
        "without trusted proxies a forwarded address is ignored"
    );
}

/// Review item 12: a page on a sibling subdomain (`evil.example.com` beside
/// `marquee.example.com`) may set cookies with `Domain=example.com`, and the browser sends
/// them to Marquee as well. With plain names Marquee read them as the viewer's own: Mallory's
/// access or refresh token, or her OAuth state, which finished *her* sign-in in Ana's browser
/// (login CSRF: Ana then watches, and is seen, as Mallory). A browser refuses a `__Host-`
/// cookie with a `Domain`, and Marquee reads only those.
async fn cookies_tossed_from_a_sibling_subdomain_are_ignored(w: World) {
    let mallory = FakeUser::new(900_000_000_000_000_066, "mallory");
    w.discord.sign_in_as(Some(mallory.clone()));
    let hers = w.sign_in().await;

    // Her own round trip, stopped where Discord sends her back with a code.
    let (state, back) = w.begin_sign_in("/auth/login").await;

    // Ana's browser, carrying what the sibling page tossed, is sent to that callback.
    w.discord.sign_in_as(Some(w.ana.clone()));
    let r = w
        .http
        .get(&back)
        .header(COOKIE, format!("marquee_oauth_state={state}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "a tossed OAuth state finished a sign-in");
    assert!(
        set_cookies(&r)
            .iter()
            .all(|c| c.0 != "__Host-marquee_access" && c.0 != "marquee_access"),
        "no sign-in was set"
    );

    let me = |cookies: String| {
        w.http
            .get(w.app.url("/api/me"))
            .header(COOKIE, cookies)
            .send()
    };
    let r = me(format!("marquee_access={}", hers.access)).await.unwrap();
    assert_eq!(r.status(), 401, "a tossed access token was read as Ana's");
    let r = w
        .http
        .post(w.app.url("/auth/refresh"))
        .header(COOKIE, format!("marquee_refresh={}", hers.refresh))
        .header(ORIGIN, w.app.running.url())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a tossed refresh token signed Ana in");
    assert!(set_cookies(&r).iter().all(|c| c.1.is_empty()), "no tokens");

    // Ana's own sign-in wins over a tossed one sent first, and the hint is a __Host- cookie.
    let (ana_state, back) = w.begin_sign_in("/auth/login?return_to=/").await;
    let r = w
        .http
        .get(&back)
        .header(COOKIE, format!("__Host-marquee_oauth_state={ana_state}"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let issued = set_cookies(&r);
    let hint = cookie(&issued, "__Host-marquee_signed_in");
    assert!(
        hint.2.contains("Secure") && hint.2.contains("Path=/") && !hint.2.contains("Domain"),
        "{}",
        hint.2
    );
    assert!(
        cookie(&issued, "marquee_access").2.contains("Max-Age=0"),
        "a cookie of an older Marquee is deleted"
    );
    let ana_access = cookie(&issued, "__Host-marquee_access").1.clone();
    let r = me(format!(
        "marquee_access={}; __Host-marquee_access={ana_access}",
        hers.access
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["name"], "ana");
}
