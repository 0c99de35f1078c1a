//! Stopping: `marquee serve` ends within its grace period on SIGTERM even while a client that
//! stopped reading holds a media response open, and its WebSocket viewers are told first.
//!
//! This runs the real binary as a process (a stuck response lives in a spawned connection task
//! that only the process's exit ends), in both modes.
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::helpers::{self, Mode};
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio_tungstenite::tungstenite::Message;

/// The grace period the server is started with.
const GRACE: Duration = Duration::from_secs(2);
/// How much longer than the grace period the process may take to exit (runtime shutdown,
/// closing the store); far below the minutes a stuck response used to hold it.
const SLACK: Duration = Duration::from_secs(3);

/// `marquee serve` as a child process on a free port; stdout and stderr collected.
struct Process {
    child: tokio::process::Child,
    url: String,
    log: std::sync::Arc<std::sync::Mutex<String>>,
    _data: tempfile::TempDir,
}

async fn start(mode: Mode) -> Process {
    helpers::media().await;
    let data = tempfile::tempdir().unwrap();
    let mut cmd = tokio::process::Command::new(crate::helpers::marquee_bin());
    cmd.arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MARQUEE_BIND", "127.0.0.1:0")
        .env("MARQUEE_DATA_DIR", data.path())
        .env(
            "MARQUEE_DEMO_MEDIA_DIR",
            marquee_fakes::plex::default_media_dir(),
        )
        .env("MARQUEE_SHUTDOWN_GRACE_SECS", GRACE.as_secs().to_string())
        .env("MARQUEE_LOG", "info")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Mode::ScaleOut = mode {
        cmd.env("DATABASE_URL", helpers::fresh_postgres_database().await.url)
            .env("REDIS_URL", helpers::redis_url())
            .env(
                "MARQUEE_REDIS_NAMESPACE",
                helpers::fresh_redis_namespace().await,
            );
    }
    let mut child = cmd.spawn().expect("start target/debug/marquee");
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let ready_tx = std::sync::Arc::new(std::sync::Mutex::new(Some(ready_tx)));
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let streams: [Box<dyn tokio::io::AsyncRead + Send + Unpin>; 2] =
        [Box::new(stdout), Box::new(stderr)];
    for stream in streams {
        let log = log.clone();
        let ready_tx = ready_tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.split("Marquee is ready: open ").nth(1)
                    && let Some(tx) = ready_tx.lock().unwrap().take()
                {
                    let _ = tx.send(rest.trim().trim_end_matches('/').to_owned());
                }
                log.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
    }
    let url = match tokio::time::timeout(Duration::from_secs(180), ready_rx).await {
        Ok(Ok(url)) => url,
        _ => panic!(
            "marquee did not say it was ready within 180 s:\n{}",
            log.lock().unwrap()
        ),
    };
    Process {
        child,
        url,
        log,
        _data: data,
    }
}

impl Process {
    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn terminate(&self) {
        let pid = self.child.id().expect("the server is running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {pid}");
    }
}

/// Opens `/media/…` with a tiny receive window, reads the headers and a few bytes, then stops
/// reading: the server's write stalls with most of the file unsent.
async fn stalled_media_request(base: &str) -> tokio::net::TcpStream {
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    // The media URL as a viewer gets it: signed, in the watch page.
    let movie = marquee_fakes::plex::keys::TWO_VERSIONS_MOVIE;
    let page = reqwest::get(format!("{base}/watch/{movie}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let media = page
        .split(&format!("\"/media/{movie}/0/0?"))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|query| format!("/media/{movie}/0/0?{}", query.replace("&amp;", "&")))
        .expect("the watch page has the signed media URL");
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let request = format!("GET {media} HTTP/1.1\r\nHost: {addr}\r\nConnection: keep-alive\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut head))
        .await
        .expect("the media response starts")
        .unwrap();
    let head = String::from_utf8_lossy(&head[..n]);
    assert!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.1 206"),
        "{head}"
    );
    stream
}

async fn sigterm_ends_the_server_within_its_grace_period(mode: Mode) {
    let server = start(mode).await;

    // A viewer in a session, to be told the server is restarting.
    let client = reqwest::Client::new();
    let admin = std::fs::read_to_string(server._data.path().join("admin-token")).unwrap();
    let created: serde_json::Value = client
        .post(format!("{}/api/sessions", server.url))
        .bearer_auth(admin.trim())
        .json(&serde_json::json!({"rating_key": marquee_fakes::plex::keys::TWO_VERSIONS_MOVIE, "name": "Ana"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let ws_url = format!("{}/ws/session/{id}", server.url.replace("http://", "ws://"));
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
    let hello = serde_json::json!({"type": "hello", "protocol": marquee_sync::PROTOCOL_VERSION, "name": "Ben"});
    ws.send(Message::text(hello.to_string())).await.unwrap();
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a welcome")
            .unwrap()
            .unwrap();
        if msg.to_text().unwrap_or_default().contains("\"welcome\"") {
            break;
        }
    }

    // A client that stopped reading mid-stream.
    let stuck = stalled_media_request(&server.url).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut server = server;
    let sent = Instant::now();
    server.terminate();

    // The viewer hears first: close code 1012 (service restart).
    let close = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Close(frame) = msg {
                return frame.map(|f| u16::from(f.code));
            }
        }
        None
    })
    .await
    .expect("the WebSocket closes when the server stops");
    assert_eq!(close, Some(1012), "service restart close code");

    let exited = tokio::time::timeout(GRACE + SLACK, server.child.wait()).await;
    let took = sent.elapsed();
    let status = match exited {
        Ok(status) => status.unwrap(),
        Err(_) => {
            let _ = server.child.start_kill();
            panic!(
                "marquee still running {took:?} after SIGTERM (grace {GRACE:?}) with a stalled client:\n{}",
                server.log()
            );
        }
    };
    eprintln!(
        "{mode:?}: exited {took:?} after SIGTERM with a stalled media client (grace {GRACE:?})"
    );
    assert!(status.success(), "exit status {status}:\n{}", server.log());
    assert!(
        took >= GRACE - Duration::from_millis(200),
        "the stalled request was given the grace period ({took:?}):\n{}",
        server.log()
    );
    let log = server.log();
    assert!(log.contains("cutting them"), "says what it cut:\n{log}");
    drop(stuck);
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_sigterm_ends_the_server_within_its_grace_period() {
    sigterm_ends_the_server_within_its_grace_period(Mode::Embedded).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn scale_out_sigterm_ends_the_server_within_its_grace_period() {
    sigterm_ends_the_server_within_its_grace_period(Mode::ScaleOut).await;
}
