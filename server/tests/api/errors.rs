//! Errors never leak, and never vanish: a forced database, Plex or Discord failure reaches the
//! client as a fixed sentence with a reference, none of the failure's own text does, and the
//! log has the detail under that reference.
use diesel::Connection;
use diesel::connection::SimpleConnection;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::helpers::{self, Mode, TestApp};

/// The log lines that carry `reference` (the binary's capturing subscriber, `helpers::logs`).
fn logged(reference: &str) -> String {
    helpers::logs::capture().lines_with(reference)
}

/// The 12-hex-digit reference in a visitor-facing message.
fn reference_in(text: &str) -> String {
    let start = text
        .find("(reference ")
        .unwrap_or_else(|| panic!("a reference in {text:?}"))
        + "(reference ".len();
    let id: String = text[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    assert_eq!(id.len(), 12, "{text}");
    id
}

/// Each test starts its own server (the Discord one with settings of its own).
async fn logging(mode: Mode) -> Mode {
    helpers::logs::capture();
    mode
}

helpers::both_modes!(
    logging => [
        a_plex_failure_is_a_sentence_with_a_reference,
        a_database_failure_is_a_sentence_with_a_reference,
        a_discord_failure_is_a_sentence_with_a_reference,
    ],
);

async fn a_plex_failure_is_a_sentence_with_a_reference(mode: Mode) {
    let app = helpers::spawn_app(mode).await;
    app.plex()
        .set_fault(Some(marquee_fakes::plex::Fault::MalformedJson));
    let (status, html) = app
        .text(&format!(
            "/item/{}",
            marquee_fakes::plex::keys::STRINGLY_MOVIE
        ))
        .await;
    assert_eq!(status, 502);
    assert!(
        html.contains("the Plex server sent a response Marquee could not read (reference "),
        "{html}"
    );
    let plex_address = app.plex().addr().to_string();
    for leak in ["EOF", "parse", "line ", &plex_address] {
        assert!(!html.contains(leak), "{leak:?} leaked into the page");
    }
    let reference = reference_in(&html);
    let log = logged(&reference);
    assert!(
        log.contains("Plex") && log.contains("EOF while parsing"),
        "the log has the detail under {reference}:\n{log}"
    );
}

async fn a_database_failure_is_a_sentence_with_a_reference(mode: Mode) {
    let app = helpers::spawn_app(mode).await;
    let (id, _) =
        helpers::viewer::create_session(&app, marquee_fakes::plex::keys::TWO_VERSIONS_MOVIE, "Ana")
            .await;
    break_the_sessions_table(&app).await;
    // Another id of the same shape: not in any cache, so the store is asked.
    let other: String = id.chars().rev().collect();
    let r = app
        .client
        .get(app.url(&format!("/api/sessions/{other}")))
        .bearer_auth(app.running.admin_token.expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "internal", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("something went wrong on the server (reference "),
        "{message}"
    );
    for leak in ["sessions", "table", "relation", "SQL", "diesel"] {
        assert!(!message.contains(leak), "{leak:?} leaked: {message}");
    }
    let reference = reference_in(message);
    let log = logged(&reference);
    assert!(
        log.contains("no such table: sessions")
            || log.contains("relation \"sessions\" does not exist"),
        "the log has the database's words under {reference}:\n{log}"
    );
}

async fn a_discord_failure_is_a_sentence_with_a_reference(mode: Mode) {
    // Discord's API at an address where nothing listens.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let unreachable = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let app = helpers::spawn_app_with(mode, |c| {
        c.discord_client_id = Some("1100000000000000001".into());
        c.discord_client_secret = Some("secret".to_string().into());
        c.discord_api_url = Some(unreachable.clone());
        c.allowed_servers = Some("any".into());
        c.jwt_secret = Some(
            "a-test-key-that-is-long-enough-for-hs256"
                .to_string()
                .into(),
        );
    })
    .await;
    let r = app
        .client
        .post(app.url("/api/activity/sign-in"))
        .json(&json!({"code": "a-code", "instance_id": "i-1", "channel_id": "100", "guild_id": "200"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "discord_unavailable", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("Discord could not be reached; try again in a moment (reference "),
        "{message}"
    );
    let port = unreachable.rsplit(':').next().unwrap();
    for leak in ["error sending request", "onnect", port] {
        assert!(!message.contains(leak), "{leak:?} leaked: {message}");
    }
    let reference = reference_in(message);
    let log = logged(&reference);
    assert!(
        log.contains("Discord") && log.contains("Connection refused"),
        "the log has the detail under {reference}:\n{log}"
    );
}

/// Drops the sessions table under the running server (SQLite file or PostgreSQL database).
async fn break_the_sessions_table(app: &TestApp) {
    match app.running.config.database_url.as_ref() {
        Some(url) => {
            use diesel_async::{AsyncConnection, SimpleAsyncConnection};
            let mut conn = diesel_async::AsyncPgConnection::establish(url.expose_secret())
                .await
                .unwrap();
            conn.batch_execute("DROP TABLE sessions CASCADE")
                .await
                .unwrap();
        }
        None => {
            let file = app.running.config.data_dir.join("marquee.db");
            let mut conn = diesel::SqliteConnection::establish(file.to_str().unwrap()).unwrap();
            conn.batch_execute("PRAGMA busy_timeout = 5000; DROP TABLE sessions;")
                .unwrap();
        }
    }
}
