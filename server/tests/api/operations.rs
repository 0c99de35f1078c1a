//! The operator's view: Prometheus series after real traffic (request latency per route, Plex
//! call latency, sessions, the viewers' sync drift, the cache hit ratio), `/readyz` naming
//! what is down (Plex refusing; in scale-out mode, the database gone) without saying why to
//! whoever asks, JSON logs with request ids, and the audit log (session commands and admin
//! actions here; sign-ins in `auth.rs`, the bot's commands and settings in `bot.rs`).

use std::time::Duration;

use marquee_fakes::plex::Fault;
use marquee_store::testing::TestDatabase;
use serde_json::{Value, json};

use crate::helpers::viewer::{Viewer, admin_token, create_session};
use crate::helpers::{Mode, TestApp, both_modes, spawn_app};

both_modes! {
    spawn_app => [
        metrics_show_latency_plex_calls_sessions_and_drift,
        readyz_says_which_dependency_is_down,
        the_audit_log_records_commands_and_admin_actions,
    ],
}

async fn metrics_text(app: &TestApp) -> String {
    let r = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(admin_token(app))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

/// The value of the first sample line starting with `prefix`.
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn metrics_show_latency_plex_calls_sessions_and_drift(app: TestApp) {
    assert_eq!(app.get("/library/1").await.status(), 200);
    assert_eq!(app.get("/library/1").await.status(), 200);
    let (id, host) = create_session(&app, "101", "Ana").await;
    let mut ana = Viewer::join(&app.running.url(), &id, "Ana", Some(&host)).await;
    ana.send(json!({"type": "drift", "drift_ms": 42.0})).await;
    ana.send(json!({"type": "drift", "drift_ms": -7.5})).await;
    // Nonsense is ignored, not recorded, and the connection lives on.
    ana.send(json!({"type": "drift", "drift_ms": 1.0e12})).await;
    ana.ok(marquee_sync::Command::Pause).await;

    let text = metrics_text(&app).await;
    for series in [
        "marquee_http_request_duration_seconds_bucket{route=\"/library/{",
        "marquee_http_request_duration_seconds_count{route=\"/api/sessions\"}",
        "marquee_plex_request_duration_seconds_bucket{endpoint=\"/library/sections",
        "marquee_plex_request_duration_seconds_bucket{endpoint=\"/library/metadata/:id\"",
        "marquee_sync_drift_seconds_bucket{le=\"0.05\"}",
        "marquee_sessions_active ",
        "marquee_ws_connections ",
        "marquee_cache_hit_ratio{backend=",
    ] {
        assert!(text.contains(series), "{series} in\n{text}");
    }
    // The metrics are one registry per process (tests share it): at least this test's two
    // reports, each under 50 ms.
    let under_50ms = sample(&text, "marquee_sync_drift_seconds_bucket{le=\"0.05\"}").unwrap();
    assert!(under_50ms >= 2.0, "{under_50ms}");
    assert!(sample(&text, "marquee_sessions_active ").unwrap() >= 1.0);
    assert!(
        !text.contains(&id),
        "no session id (a secret link) is a label"
    );
    assert!(!text.contains("ratingKey") && !text.contains("/library/metadata/101"));
}

async fn readyz(app: &TestApp) -> (u16, Value) {
    let r = app.get("/readyz").await;
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn readyz_says_which_dependency_is_down(app: TestApp) {
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"ready": true, "checks": {"database": "ok", "cache": "ok", "plex": "ok"}})
    );

    app.plex().set_fault(Some(Fault::Status(500)));
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["checks"]["plex"], "failed");
    assert_eq!(body["checks"]["database"], "ok");
    // Anyone may ask: the answer names no address or reason.
    assert!(!body.to_string().contains("127.0.0.1"), "{body}");
    app.plex().set_fault(None);
    assert_eq!(readyz(&app).await.0, 200);

    if app.mode() == Mode::ScaleOut {
        // The database goes away under the running server.
        let url = app
            .running
            .config
            .database_url
            .as_ref()
            .map(|u| secrecy::ExposeSecret::expose_secret(u).to_owned())
            .unwrap();
        let name = url.rsplit('/').next().unwrap().to_owned();
        TestDatabase { name, url }.drop_database().await;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = readyz(&app).await;
            if status == 503 {
                assert_eq!(body["checks"]["database"], "failed", "{body}");
                assert_eq!(body["checks"]["plex"], "ok", "{body}");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "still ready: {body}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Liveness is another question: the process is alive, /healthz says the store is not.
        assert_eq!(app.get("/healthz").await.status(), 503);
    }
}

/// `MARQUEE_LOG_FORMAT=json`: the real binary writes one JSON object a line, and a line logged
/// while answering a request carries that request's id (the one its `x-request-id` header
/// gives the client).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_request_id() {
    use std::io::BufRead as _;
    crate::helpers::media().await;
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(crate::helpers::marquee_bin())
        .arg("serve")
        .env("MARQUEE_BIND", format!("127.0.0.1:{port}"))
        .env("MARQUEE_DATA_DIR", data.path())
        .env(
            "MARQUEE_DEMO_MEDIA_DIR",
            marquee_fakes::plex::default_media_dir(),
        )
        .env("MARQUEE_LOG_FORMAT", "json")
        .env("MARQUEE_LOG", "info")
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A request that logs while it is answered: a cross-site POST carrying a cookie is
    // refused, and the refusal is logged.
    let r = http
        .post(format!("{base}/auth/logout"))
        .header("cookie", "__Host-marquee_access=x")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let mut lines = Vec::new();
    let found = loop {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(line) => {
                let parsed: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
                lines.push(line);
                if parsed["fields"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("cross-site"))
                {
                    break parsed;
                }
            }
            Err(_) => panic!("no refusal logged; lines:\n{}", lines.join("\n")),
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(found["span"]["id"], id, "{found}");
    assert_eq!(found["span"]["path"], "/auth/logout");
    assert_eq!(found["level"], "INFO");
}

/// The audit log's events for `query` (`action=…&session=…`), as the admin reads them, once
/// `pred` holds of them (writes land just after the action they follow); fails after 5 s.
pub(crate) async fn audit_until(
    app: &TestApp,
    query: &str,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let r = app
            .client
            .get(app.url(&format!("/api/admin/audit?{query}")))
            .bearer_auth(admin_token(app))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        let events = body["events"].as_array().cloned().unwrap_or_default();
        if pred(&events) {
            return events;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "audit log for {query}: {events:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn actions(events: &[Value]) -> Vec<&str> {
    events.iter().filter_map(|e| e["action"].as_str()).collect()
}

async fn the_audit_log_records_commands_and_admin_actions(app: TestApp) {
    let (id, host) = create_session(&app, "101", "Ana").await;
    let mut ana = Viewer::join(&app.running.url(), &id, "Ana", Some(&host)).await;
    ana.ok(marquee_sync::Command::Play).await;
    ana.ok(marquee_sync::Command::Seek { position: 30.0 }).await;
    ana.ok(marquee_sync::Command::Pause).await;
    let events = audit_until(&app, &format!("session={id}"), |e| e.len() >= 3).await;
    assert_eq!(actions(&events), ["pause", "seek", "play"], "newest first");
    assert_eq!(events[0]["actor"], "Ana");
    assert_eq!(events[0]["actor_id"], host.member);
    let seek: Value = serde_json::from_str(events[1]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(seek["position"], 30.0);

    // Filters, and paging with `before`.
    let seeks = audit_until(&app, &format!("session={id}&action=seek"), |e| {
        !e.is_empty()
    })
    .await;
    assert_eq!(actions(&seeks), ["seek"]);
    let first = audit_until(&app, &format!("session={id}&limit=1"), |e| e.len() == 1).await;
    let before = first[0]["id"].as_i64().unwrap();
    let rest = audit_until(&app, &format!("session={id}&before={before}"), |e| {
        e.len() == 2
    })
    .await;
    assert_eq!(actions(&rest), ["seek", "play"]);

    let r = app
        .client
        .post(app.url("/api/admin/cache/clear"))
        .bearer_auth(admin_token(&app))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let admin = audit_until(&app, "action=cache_clear", |e| !e.is_empty()).await;
    assert_eq!(admin[0]["actor"], "admin");

    // Only the admin reads it.
    let r = app.get("/api/admin/audit").await;
    assert_eq!(r.status(), 401);
}
