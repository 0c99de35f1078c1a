//! A test viewer: a raw WebSocket client speaking the sync protocol, with a mirror of the
//! session it keeps up to date from the events it receives.
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use marquee_sync::session::Cause;
use marquee_sync::{Change, Command, ErrorCode, ServerMsg, Session};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use super::TestApp;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub const WAIT: Duration = Duration::from_secs(10);

/// A test viewer: a raw WebSocket speaking the protocol.
pub struct Viewer {
    pub ws: Ws,
    pub member: String,
    /// The rejoin key its welcome gave (a new anonymous member's only).
    pub member_key: Option<String>,
    pub session: Session,
    pub next_id: u64,
}

/// What rejoining as an anonymous member takes: its id and its rejoin key.
#[derive(Debug, Clone)]
pub struct Rejoin {
    pub member: String,
    pub key: String,
}

pub async fn connect(app_url: &str, session: &str) -> Ws {
    let url = format!(
        "{}/ws/session/{session}",
        app_url.replace("http://", "ws://")
    );
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

/// Creates a session over the API: its id, and what its host rejoins with.
pub async fn create_session(app: &TestApp, key: &str, name: &str) -> (String, Rejoin) {
    let r = app
        .client
        .post(app.url("/api/sessions"))
        .bearer_auth(admin_token(app))
        .json(&json!({"rating_key": key, "name": name}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body["url"].as_str().unwrap(),
        format!("/session/{}", body["id"].as_str().unwrap())
    );
    (
        body["id"].as_str().unwrap().to_owned(),
        Rejoin {
            member: body["member"].as_str().unwrap().to_owned(),
            key: body["member_key"].as_str().unwrap().to_owned(),
        },
    )
}

pub async fn recv_raw(ws: &mut Ws) -> Option<Message> {
    tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("a message within 10 s")
        .map(|m| m.unwrap())
}

pub async fn recv_msg(ws: &mut Ws) -> ServerMsg {
    loop {
        match recv_raw(ws).await.expect("connection open") {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            Message::Close(f) => panic!("closed: {f:?}"),
            _ => continue,
        }
    }
}

impl Viewer {
    /// Joins `session` as `name`: a new member, or the one `rejoin` proves.
    pub async fn join(app_url: &str, session: &str, name: &str, rejoin: Option<&Rejoin>) -> Viewer {
        let hello = json!({
            "type": "hello", "protocol": 1, "name": name,
            "member": rejoin.map(|r| &r.member), "member_key": rejoin.map(|r| &r.key),
        });
        Self::hello(app_url, session, hello).await
    }

    /// Joins `session` with this exact hello message.
    pub async fn hello(app_url: &str, session: &str, hello: serde_json::Value) -> Viewer {
        let mut ws = connect(app_url, session).await;
        ws.send(Message::Text(hello.to_string().into()))
            .await
            .unwrap();
        match recv_msg(&mut ws).await {
            ServerMsg::Welcome {
                member,
                session,
                member_key,
                ..
            } => Viewer {
                ws,
                member,
                member_key,
                session,
                next_id: 1,
            },
            other => panic!("expected welcome, got {other:?}"),
        }
    }

    /// What this viewer rejoins with (it must have been given a key).
    pub fn rejoin(&self) -> Rejoin {
        Rejoin {
            member: self.member.clone(),
            key: self
                .member_key
                .clone()
                .expect("a new anonymous member got a key"),
        }
    }

    pub async fn send(&mut self, value: serde_json::Value) {
        self.ws
            .send(Message::Text(value.to_string().into()))
            .await
            .unwrap();
    }

    pub async fn send_text(&mut self, text: String) {
        self.ws.send(Message::Text(text.into())).await.unwrap();
    }

    /// Receives until `pred` matches, applying events to the mirror on the way.
    pub async fn until<T>(&mut self, mut pred: impl FnMut(&ServerMsg) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let msg = tokio::time::timeout_at(deadline, recv_msg(&mut self.ws))
                .await
                .expect("the expected message within 10 s");
            match &msg {
                ServerMsg::Event {
                    version, changes, ..
                } if *version > self.session.version => {
                    for c in changes {
                        self.session.apply_change(c);
                    }
                    self.session.version = *version;
                }
                ServerMsg::Welcome { session, .. } => self.session = session.clone(),
                _ => {}
            }
            if let Some(t) = pred(&msg) {
                return t;
            }
        }
    }

    /// Sends a command and returns the Ack or Error answering it.
    pub async fn command(&mut self, command: Command) -> ServerMsg {
        let id = self.next_id;
        self.next_id += 1;
        let msg = json!({"type": "command", "id": id, "base_version": self.session.version, "command": command});
        self.send(msg).await;
        self.until(|m| match m {
            ServerMsg::Ack { id: i, .. } | ServerMsg::Error { id: Some(i), .. } if *i == id => {
                Some(m.clone())
            }
            _ => None,
        })
        .await
    }

    /// Sends a command that must be accepted; returns once this viewer's mirror includes it
    /// (the broadcast may arrive after the acknowledgement).
    pub async fn ok(&mut self, command: Command) -> u64 {
        let version = match self.command(command.clone()).await {
            ServerMsg::Ack { version, .. } => version,
            other => panic!("{command:?} refused: {other:?}"),
        };
        while self.session.version < version {
            self.until(|m| {
                matches!(m, ServerMsg::Event { .. } | ServerMsg::Welcome { .. }).then_some(())
            })
            .await;
        }
        version
    }

    /// The next playback change (and who made it).
    pub async fn playback_event(&mut self) -> (Option<String>, Cause, marquee_sync::Playback) {
        self.until(|m| match m {
            ServerMsg::Event { by, changes, .. } => changes.iter().find_map(|c| match c {
                Change::Playback {
                    playback, cause, ..
                } => Some((
                    by.as_ref().map(|a| a.name.clone()),
                    cause.clone(),
                    *playback,
                )),
                _ => None,
            }),
            _ => None,
        })
        .await
    }

    /// The next host hand-over: the new host's member id.
    pub async fn host_change(&mut self) -> String {
        self.until(|m| match m {
            ServerMsg::Event { changes, .. } => changes.iter().find_map(|c| match c {
                Change::HostChanged { host } => Some(host.clone()),
                _ => None,
            }),
            _ => None,
        })
        .await
    }

    pub async fn error(&mut self) -> (ErrorCode, String) {
        self.until(|m| match m {
            ServerMsg::Error { code, message, .. } => Some((*code, message.clone())),
            _ => None,
        })
        .await
    }
}

pub fn now_ms() -> f64 {
    server::sync::now_ms()
}

/// The admin token, which the session API takes from scripts when guests are off.
pub fn admin_token(app: &TestApp) -> &str {
    use secrecy::ExposeSecret;
    app.running.admin_token.expose_secret()
}

pub async fn snapshot(app: &TestApp, id: &str) -> Session {
    let r = app
        .client
        .get(app.url(&format!("/api/sessions/{id}")))
        .bearer_auth(admin_token(app))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}
