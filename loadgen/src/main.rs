//! `marquee-loadgen`: connects N WebSocket viewers to one watch session (spread over one or
//! more Marquee servers), then has the host send commands and measures, for every viewer, the
//! time from sending a command to receiving its broadcast. Also reports each server's memory
//! per connection (RSS growth / its connections, read from `/proc/PID/status`).
//!
//! Example: `marquee-loadgen --url http://127.0.0.1:3000 --pid 1234 --clients 2000`

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use futures::{SinkExt, StreamExt};
use marquee_sync::{Command, ServerMsg};
use tokio::sync::{Barrier, mpsc};
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser, Debug)]
struct Args {
    /// Server base URLs; viewers are spread round-robin (several = scale-out through Redis).
    #[arg(long, value_delimiter = ',', required = true)]
    url: Vec<String>,
    /// Server process ids, in the same order, for the memory figures.
    #[arg(long, value_delimiter = ',')]
    pid: Vec<u32>,
    /// Viewers to connect.
    #[arg(long, default_value_t = 2000)]
    clients: usize,
    /// Commands to broadcast (each measured at every viewer).
    #[arg(long, default_value_t = 20)]
    commands: usize,
    /// Viewers connecting at once.
    #[arg(long, default_value_t = 64)]
    connect_concurrency: usize,
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn ws_url(base: &str, session: &str) -> String {
    format!("{}/ws/session/{session}", base.replacen("http", "ws", 1))
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Joins as `name`: a new member, or the (member id, rejoin key) given.
async fn join(url: &str, name: &str, member: Option<(&str, &str)>) -> Result<Ws, String> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (member, member_key) = member.unzip();
    let hello = serde_json::json!({
        "type": "hello", "protocol": 1, "name": name, "member": member, "member_key": member_key,
    });
    ws.send(Message::Text(hello.to_string().into()))
        .await
        .map_err(|e| e.to_string())?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) if t.contains("\"type\":\"welcome\"") => return Ok(ws),
            Some(Ok(Message::Text(t))) if t.contains("\"type\":\"error\"") => {
                return Err(t.to_string());
            }
            Some(Ok(_)) => {}
            other => return Err(format!("closed before welcome: {other:?}")),
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let http = reqwest::Client::new();
    let created: serde_json::Value = http
        .post(format!("{}/api/sessions", args.url[0]))
        .json(&serde_json::json!({"rating_key": "105", "name": "Load host"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let session = created["id"].as_str().ok_or("no session id")?.to_owned();
    let host_member = created["member"].as_str().ok_or("no member id")?.to_owned();
    let host_key = created["member_key"]
        .as_str()
        .ok_or("no member key")?
        .to_owned();

    let rss_before: Vec<Option<u64>> = args.pid.iter().map(|p| rss_kib(*p)).collect();
    let mut host = join(
        &ws_url(&args.url[0], &session),
        "Load host",
        Some((&host_member, &host_key)),
    )
    .await?;

    // Connect the viewers.
    let started = Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel::<(u64, Instant)>();
    let ready = Arc::new(Barrier::new(args.clients + 1));
    let permits = Arc::new(tokio::sync::Semaphore::new(args.connect_concurrency));
    let mut per_server = vec![0usize; args.url.len()];
    for i in 0..args.clients {
        let server = i % args.url.len();
        per_server[server] += 1;
        let url = ws_url(&args.url[server], &session);
        let (tx, ready, permits) = (tx.clone(), ready.clone(), permits.clone());
        tokio::spawn(async move {
            let permit = permits.acquire_owned().await;
            // Like the browser client: a refused join is retried after a pause.
            let mut ws = None;
            for attempt in 0..5u64 {
                match join(&url, &format!("viewer {i}"), None).await {
                    Ok(w) => {
                        ws = Some(w);
                        break;
                    }
                    Err(e) => {
                        eprintln!("viewer {i} (attempt {}): {e}", attempt + 1);
                        tokio::time::sleep(Duration::from_millis(200 * (attempt + 1))).await;
                    }
                }
            }
            drop(permit);
            let Some(mut ws) = ws else {
                ready.wait().await;
                return;
            };
            ready.wait().await;
            while let Some(Ok(msg)) = ws.next().await {
                let received = Instant::now();
                let Message::Text(text) = msg else { continue };
                // Only playback broadcasts are timed; skip parsing the join/leave chatter.
                if !text.contains("\"why\"") {
                    continue;
                }
                if let Ok(ServerMsg::Event { version, .. }) = serde_json::from_str(text.as_str()) {
                    let _ = tx.send((version, received));
                }
            }
        });
    }
    drop(tx);
    // Drain the host's socket in the background (it receives every join).
    ready.wait().await;
    let connect_time = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after: Vec<Option<u64>> = args.pid.iter().map(|p| rss_kib(*p)).collect();

    // Broadcast commands and time their delivery.
    let mut latencies: Vec<f64> = Vec::new();
    let mut acks: Vec<f64> = Vec::new();
    let mut missing = 0usize;
    for c in 0..args.commands {
        let command = match c % 3 {
            0 => Command::Pause,
            1 => Command::Seek {
                position: 10.0 + c as f64,
            },
            _ => Command::Play,
        };
        let id = c as u64 + 1;
        let msg =
            serde_json::json!({"type": "command", "id": id, "base_version": 0, "command": command});
        let sent = Instant::now();
        host.send(Message::Text(msg.to_string().into())).await?;
        // The host's own broadcast tells us the version this command produced.
        let version = loop {
            match tokio::time::timeout(Duration::from_secs(10), host.next()).await? {
                Some(Ok(Message::Text(t))) => match serde_json::from_str::<ServerMsg>(t.as_str()) {
                    Ok(ServerMsg::Ack { version, .. }) => {
                        acks.push(sent.elapsed().as_secs_f64() * 1000.0);
                        break version;
                    }
                    Ok(ServerMsg::Error { message, .. }) => return Err(message.into()),
                    _ => {}
                },
                Some(Ok(_)) => {}
                other => return Err(format!("host connection ended: {other:?}").into()),
            }
        };
        let mut got = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while got < args.clients {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some((v, at))) if v == version => {
                    got += 1;
                    latencies.push(at.duration_since(sent).as_secs_f64() * 1000.0);
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        missing += args.clients - got;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies
            .get(((p / 100.0) * latencies.len() as f64) as usize)
            .or(latencies.last())
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "fan-out: {} viewers over {} server(s), {} commands → {} deliveries ({} missing)",
        args.clients,
        args.url.len(),
        args.commands,
        latencies.len(),
        missing
    );
    println!(
        "  connect + join all viewers: {:.1} s",
        connect_time.as_secs_f64()
    );
    println!(
        "  delivery latency (command sent → broadcast received): p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        pct(50.0),
        pct(99.0),
        pct(100.0)
    );
    acks.sort_by(f64::total_cmp);
    println!(
        "  of which the command itself (sent → host's ack: apply, store, publish): p50 {:.2} ms  max {:.2} ms",
        acks.get(acks.len() / 2).copied().unwrap_or(f64::NAN),
        acks.last().copied().unwrap_or(f64::NAN)
    );
    for (i, pid) in args.pid.iter().enumerate() {
        if let (Some(Some(b)), Some(Some(a))) = (rss_before.get(i), rss_after.get(i)) {
            let n = per_server.get(i).copied().unwrap_or(0).max(1);
            println!(
                "  server {} (pid {pid}): RSS {:.1} → {:.1} MiB with {n} connections: {:.1} KiB per connection",
                i + 1,
                *b as f64 / 1024.0,
                *a as f64 / 1024.0,
                (a.saturating_sub(*b)) as f64 / n as f64
            );
        }
    }
    Ok(())
}
