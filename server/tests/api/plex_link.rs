//! "Link Plex" against the fake plex.tv: the PIN flow polled on the server, the token sealed in
//! the database, an account without access to the server refused in words, and a linked
//! viewer's progress and watched mark landing on *their* Plex account (`/:/progress` and
//! `/:/scrobble` with their token, never a second `/:/timeline` player), until they unlink.

use std::time::Duration;

use marquee_fakes::plex::OWNER_ACCOUNT;
use marquee_sync::{Command, Options};
use serde_json::Value;
use server::auth::tokens::{AUDIENCE, AccessKeys, Claims, ISSUER};

use crate::helpers::viewer::{Viewer, create_session, snapshot};
use crate::helpers::{Mode, TestApp, both_modes, spawn_app_with};

both_modes! {
    spawn_linking => [
        a_linked_viewers_progress_lands_on_their_own_plex_account,
        an_account_without_the_server_is_refused_and_strangers_cannot_link,
    ],
}

const JWT_KEY: &str = "a-shared-test-key-for-every-server-0123456789";
const TOKEN_KEY: &str = "a-shared-token-sealing-key-for-the-tests-9876543210";
const ANA: &str = "900000000000000001";
const BEN: &str = "900000000000000002";

async fn spawn_linking(mode: Mode) -> TestApp {
    spawn_app_with(mode, |c| {
        c.plex_timeline_ms = 500;
        c.jwt_secret = Some(JWT_KEY.to_string().into());
        c.token_key = Some(TOKEN_KEY.to_string().into());
    })
    .await
}

/// An access token for a Discord user, as signing in would give them.
fn token_for(discord_id: &str, name: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    AccessKeys::new(JWT_KEY.as_bytes(), Duration::from_secs(900)).sign(&Claims {
        sub: "1".into(),
        did: discord_id.into(),
        name: name.into(),
        allowed: true,
        iat: now,
        exp: now + 900,
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        sid: format!("test-{discord_id}"),
    })
}

/// Calls a server function of the Link Plex control as the bearer of `token`.
async fn call(app: &TestApp, endpoint: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = app
        .client
        .post(app.url(&format!("/api/plex-link/{endpoint}")))
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The `clientID` and `code` in the fragment of the auth app's address.
fn pin_of(auth_url: &str) -> (String, String) {
    let fragment = auth_url
        .split_once("#?")
        .expect("parameters in the fragment")
        .1;
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(fragment.as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).unwrap().1.clone();
    assert_eq!(get("context[device][product]"), "Marquee");
    (get("clientID"), get("code"))
}

/// Starts a link as `token`'s viewer and approves it on the fake plex.tv as `plex_user`; the
/// state the next look at the link returns.
async fn link(app: &TestApp, token: &str, plex_user: &str) -> Value {
    let (status, url) = call(app, "start", Some(token)).await;
    assert_eq!(status, 200, "{url}");
    let url = url.as_str().expect("the auth app's address").to_owned();
    assert!(url.starts_with(&app.plex_tv().auth_url()), "{url}");
    let (client, code) = pin_of(&url);
    let (_, pending) = call(app, "status", Some(token)).await;
    assert_eq!(pending["pending"], true, "{pending}");
    assert!(app.plex_tv().state().approve(&client, &code, plex_user));
    let (status, state) = call(app, "status", Some(token)).await;
    assert_eq!(status, 200, "{state}");
    state
}

fn plex_user_token(app: &TestApp, name: &str) -> String {
    app.plex_tv()
        .state()
        .users()
        .iter()
        .find(|u| u.username == name)
        .and_then(|u| u.server_token.clone())
        .unwrap()
}

/// Requests to the fake Plex made with `token`, as paths.
fn calls_with(app: &TestApp, token: &str) -> Vec<String> {
    app.plex()
        .requests()
        .iter()
        .filter(|r| r.header("x-plex-token") == Some(token))
        .map(|r| r.path().to_owned())
        .collect()
}

async fn wait_until(secs: u64, what: &str, mut pred: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while !pred() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn a_linked_viewers_progress_lands_on_their_own_plex_account(app: TestApp) {
    let ana = token_for(ANA, "ana");
    let (status, state) = call(&app, "status", Some(&ana)).await;
    assert_eq!(status, 200, "{state}");
    assert_eq!(state["available"], true);
    assert_eq!(state["linked"], Value::Null);

    let state = link(&app, &ana, "river").await;
    assert_eq!(state["linked"]["username"], "river", "{state}");
    let river = plex_user_token(&app, "river");
    // Stored sealed: the database never holds the token itself.
    let row = app
        .running
        .services
        .store
        .plex_account(ANA)
        .await
        .unwrap()
        .expect("a stored link");
    assert_eq!(row.plex_id, 5001);
    assert!(row.sealed_token.starts_with("v1."), "{}", row.sealed_token);
    assert!(!row.sealed_token.contains(&river));

    // A session of the episode, driven by its host; Ana watches, signed in.
    let (id, host) = create_session(&app, "2110", "Host").await;
    let base = app.running.url();
    let mut driver = Viewer::join(&base, &id, "Host", Some(&host)).await;
    let _ana_viewer = Viewer::hello(
        &base,
        &id,
        serde_json::json!({"type": "hello", "protocol": 1, "name": "ana", "token": ana}),
    )
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while snapshot(&app, &id).await.duration() != Some(120.0) {
        assert!(
            std::time::Instant::now() < deadline,
            "the episode was not described"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    driver
        .ok(Command::SetOptions {
            options: Options {
                autoplay: false,
                skip_intros: false,
            },
        })
        .await;
    driver.ok(Command::Play).await;
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    driver.ok(Command::Pause).await;
    let paused_ms = (snapshot(&app, &id).await.playback.position * 1000.0).round() as i64;
    wait_until(5, "Ana's account hears the pause", || {
        app.plex().state().progress_for(5001, "2110").offset == Some(paused_ms)
    })
    .await;
    let river_calls = calls_with(&app, &river);
    assert!(
        river_calls.iter().any(|p| p == "/:/progress"),
        "{river_calls:?}"
    );
    assert!(
        !river_calls.iter().any(|p| p == "/:/timeline"),
        "a linked viewer is no second Now Playing player: {river_calls:?}"
    );
    // The owner's account has the group's progress from the timeline; Juniper (not in the
    // session) has nothing.
    assert_eq!(
        app.plex()
            .state()
            .progress_for(OWNER_ACCOUNT, "2110")
            .offset,
        Some(paused_ms)
    );
    assert_eq!(app.plex().state().progress_for(5002, "2110").offset, None);

    // Past the final credits: watched, on Ana's account too.
    driver.ok(Command::Seek { position: 110.0 }).await;
    driver.ok(Command::Play).await;
    wait_until(8, "Ana's account marks the episode watched", || {
        app.plex().state().progress_for(5001, "2110").views == 1
    })
    .await;
    assert_eq!(
        app.plex().state().progress_for(OWNER_ACCOUNT, "2110").views,
        1
    );

    // Unlinked: nothing more reaches her account.
    let (status, state) = call(&app, "unlink", Some(&ana)).await;
    assert_eq!(status, 200, "{state}");
    assert_eq!(state["linked"], Value::Null);
    assert!(
        app.running
            .services
            .store
            .plex_account(ANA)
            .await
            .unwrap()
            .is_none()
    );
    let before = calls_with(&app, &river).len();
    driver.ok(Command::Seek { position: 30.0 }).await;
    driver.ok(Command::Pause).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        calls_with(&app, &river).len(),
        before,
        "no report after unlinking"
    );
}

async fn an_account_without_the_server_is_refused_and_strangers_cannot_link(app: TestApp) {
    // Not signed in: the door refuses before any plex.tv call.
    let pins_before = app.plex_tv().state().requests().len();
    for endpoint in ["status", "start", "unlink"] {
        let (status, body) = call(&app, endpoint, None).await;
        assert_eq!(status, 401, "{endpoint}: {body}");
    }
    assert_eq!(app.plex_tv().state().requests().len(), pins_before);

    // Ben signs in to Plex with an account the server is not shared with.
    let ben = token_for(BEN, "ben");
    let state = link(&app, &ben, "outsider").await;
    assert_eq!(state["linked"], Value::Null, "{state}");
    let problem = state["problem"].as_str().unwrap_or_default();
    assert!(
        problem.contains("outsider") && problem.contains("no access"),
        "{state}"
    );
    assert!(
        app.running
            .services
            .store
            .plex_account(BEN)
            .await
            .unwrap()
            .is_none()
    );
    // The answer stays until he starts again; then it is a new, clean attempt.
    let (_, again) = call(&app, "status", Some(&ben)).await;
    assert_eq!(again["problem"], state["problem"]);
    let state = link(&app, &ben, "juniper").await;
    assert_eq!(state["linked"]["username"], "juniper", "{state}");
    assert_eq!(state["problem"], Value::Null);

    // A PIN approved for another install's client identifier does not link this one.
    let (_, url) = call(&app, "start", Some(&ben)).await;
    let (_, code) = pin_of(url.as_str().unwrap());
    assert!(
        !app.plex_tv()
            .state()
            .approve("someone-else", &code, "river")
    );
}
