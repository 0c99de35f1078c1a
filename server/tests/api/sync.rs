//! Shared watch sessions over real WebSockets against a real server: joining, commands and who
//! made them, late joiners, buffering waits, host hand-over, reconnects, bad input, restarts,
//! and two server processes sharing sessions through PostgreSQL + Redis. Every test body runs in
//! the embedded mode and in the scale-out mode.

use std::time::Duration;

use futures::SinkExt;
use marquee_sync::session::{Cause, describe};
use marquee_sync::{Change, Command, ErrorCode, Role, ServerMsg, Session};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers;
use crate::helpers::viewer::{
    Viewer, connect, create_session, now_ms, recv_msg, recv_raw, snapshot,
};
use crate::helpers::{Mode, TestApp, both_modes, spawn_app};

both_modes! {
    spawn_app => [
        join_gives_a_snapshot_and_a_late_joiner_disturbs_nobody,
        everyone_sees_who_paused_and_seeked,
        bad_input_gets_typed_errors_and_the_connection_stays_healthy,
        unknown_sessions_are_refused_clearly,
        a_flood_is_rate_limited,
        when_the_host_leaves_the_role_passes_on,
        reconnecting_resumes_the_member_and_replays_are_not_applied_twice,
        a_buffering_viewer_holds_the_group_then_it_carries_on,
        the_queue_drives_what_plays,
        a_session_survives_a_server_restart,
        the_host_decides_who_may_drive,
    ],
}

/// Under "host only" a viewer's pause is refused with a clear, typed error and changes nothing;
/// after the host promotes them (co-host under "host and co-hosts", or the host role itself) it
/// goes through. Only the host may change roles or the policy.
async fn the_host_decides_who_may_drive(app: TestApp) {
    use marquee_sync::Control;
    let (id, host) = create_session(&app, "101", "Ana").await;
    let base = app.running.url();
    let mut ana = Viewer::join(&base, &id, "Ana", Some(&host)).await;
    let mut ben = Viewer::join(&base, &id, "Ben", None).await;
    ana.ok(Command::Play).await;
    ana.ok(Command::SetControl {
        control: Control::HostOnly,
    })
    .await;
    let before = snapshot(&app, &id).await.version;
    match ben.command(Command::Pause).await {
        ServerMsg::Error { code, message, .. } => {
            assert_eq!(code, ErrorCode::Forbidden);
            assert_eq!(
                message,
                "Only the host can control playback in this session."
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(snapshot(&app, &id).await.version, before, "nothing changed");
    // Ben cannot promote himself.
    match ben
        .command(Command::SetRole {
            member: ben.member.clone(),
            role: Role::Host,
        })
        .await
    {
        ServerMsg::Error { code, .. } => assert_eq!(code, ErrorCode::Forbidden),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Host and co-hosts: promoting Ben to co-host lets him drive.
    ana.ok(Command::SetControl {
        control: Control::HostAndCoHosts,
    })
    .await;
    let ben_id = ben.member.clone();
    ana.ok(Command::SetRole {
        member: ben_id.clone(),
        role: Role::CoHost,
    })
    .await;
    ben.ok(Command::Pause).await;
    // Host only again: handing Ben the host role lets him drive, and Ana becomes co-host.
    ana.ok(Command::SetControl {
        control: Control::HostOnly,
    })
    .await;
    ana.ok(Command::SetRole {
        member: ben_id,
        role: Role::Host,
    })
    .await;
    ben.ok(Command::Play).await;
    let s = snapshot(&app, &id).await;
    assert_eq!(s.host().unwrap().name, "Ben");
    assert_eq!(s.member(&host.member).unwrap().role, Role::CoHost);
    assert_eq!(s.control, Control::HostOnly);
}

async fn join_gives_a_snapshot_and_a_late_joiner_disturbs_nobody(app: TestApp) {
    let (id, host) = create_session(&app, "101", "Ana").await;
    let base = app.running.url();
    let mut ana = Viewer::join(&base, &id, "Ana", Some(&host)).await;
    assert_eq!(ana.member, host.member);
    assert_eq!(ana.session.host().map(|m| m.name.as_str()), Some("Ana"));
    assert_eq!(
        ana.session.current_entry().map(|e| e.title.as_str()),
        Some("Harbor Lights")
    );
    assert!(!ana.session.playback.playing);

    ana.ok(Command::Seek { position: 5.0 }).await;
    ana.ok(Command::Play).await;
    let playback = ana.session.playback;
    tokio::time::sleep(Duration::from_millis(600)).await;

    let ben = Viewer::join(&base, &id, "Ben", None).await;
    assert_eq!(
        ben.session.playback, playback,
        "the joiner did not reset playback"
    );
    let expected = playback.position_at(now_ms());
    assert!(
        ben.session.playback.position_at(now_ms()) > 5.3,
        "a late joiner starts where the group is ({expected:.2}), not at 0:00"
    );
    assert_eq!(ben.session.member(&ben.member).unwrap().role, Role::Viewer);

    // Ana hears that Ben joined, and nothing about playback.
    let changes = ana
        .until(|m| match m {
            ServerMsg::Event { changes, .. } => Some(changes.clone()),
            _ => None,
        })
        .await;
    assert!(
        matches!(changes.as_slice(), [Change::MemberJoined { member }] if member.name == "Ben")
    );
    assert_eq!(ana.session.playback, playback);
}

async fn everyone_sees_who_paused_and_seeked(app: TestApp) {
    let (id, host) = create_session(&app, "101", "Ana").await;
    let base = app.running.url();
    let mut ana = Viewer::join(&base, &id, "Ana", Some(&host)).await;
    let mut ben = Viewer::join(&base, &id, "Ben", None).await;

    ana.ok(Command::Play).await;
    let (by, cause, pb) = ben.playback_event().await;
    assert_eq!((by.as_deref(), cause), (Some("Ana"), Cause::Play));
    assert!(pb.playing);
    assert!(
        pb.at > now_ms() - 50.0,
        "play is scheduled, not in the past"
    );

    ana.ok(Command::Pause).await;
    let (by, cause, pb) = ben.playback_event().await;
    assert_eq!((by.as_deref(), &cause), (Some("Ana"), &Cause::Pause));
    assert!(!pb.playing);
    let change = Change::Playback {
        playback: pb,
        wait: None,
        cause,
    };
    let actor = marquee_sync::Actor {
        id: host.member.clone(),
        name: "Ana".into(),
    };
    assert_eq!(
        describe(Some(&actor), &change, &ben.session).as_deref(),
        Some("Ana paused")
    );

    ben.ok(Command::Seek { position: 12.0 }).await;
    let (by, cause, pb) = ana.playback_event().await;
    assert_eq!(by.as_deref(), Some("Ben"));
    assert!(matches!(cause, Cause::Seek { to, .. } if to == 12.0));
    assert_eq!(pb.position, 12.0);

    ben.ok(Command::SetRate { rate: 1.5 }).await;
    let (_, cause, pb) = ana.playback_event().await;
    assert_eq!(cause, Cause::Rate { rate: 1.5 });
    assert_eq!(pb.rate, 1.5);
}

async fn bad_input_gets_typed_errors_and_the_connection_stays_healthy(app: TestApp) {
    let (id, host) = create_session(&app, "101", "Ana").await;
    let base = app.running.url();

    // Before hello: only hello (and ping) are accepted.
    let mut ws = connect(&base, &id).await;
    ws.send(Message::Text(r#"{"type":"resync"}"#.into()))
        .await
        .unwrap();
    assert!(matches!(
        recv_msg(&mut ws).await,
        ServerMsg::Error {
            code: ErrorCode::NotJoined,
            ..
        }
    ));
    // A wrong protocol version is refused with a reason, then closed.
    ws.send(Message::Text(
        r#"{"type":"hello","protocol":99,"name":"Old"}"#.into(),
    ))
    .await
    .unwrap();
    assert!(matches!(
        recv_msg(&mut ws).await,
        ServerMsg::Error {
            code: ErrorCode::UnsupportedProtocol,
            ..
        }
    ));

    // A bad name is refused, and the same socket can still join.
    let mut ws = connect(&base, &id).await;
    ws.send(Message::Text(
        r#"{"type":"hello","protocol":1,"name":"   "}"#.into(),
    ))
    .await
    .unwrap();
    assert!(matches!(
        recv_msg(&mut ws).await,
        ServerMsg::Error {
            code: ErrorCode::InvalidCommand,
            ..
        }
    ));
    drop(ws);

    let mut ana = Viewer::join(&base, &id, "Ana", Some(&host)).await;
    let before = snapshot(&app, &id).await;

    ana.send_text("{not json".into()).await;
    assert_eq!(ana.error().await.0, ErrorCode::Malformed);
    ana.send(json!({"type": "launch_missiles"})).await;
    assert_eq!(ana.error().await.0, ErrorCode::Malformed);
    ana.send(json!({"type": "command", "id": 1, "base_version": 0, "command": {"op": "explode"}}))
        .await;
    assert_eq!(ana.error().await.0, ErrorCode::Malformed);
    ana.ws
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(ana.error().await.0, ErrorCode::Malformed);
    ana.send_text(format!(
        r#"{{"type":"ping","t0":1,"pad":"{}"}}"#,
        "x".repeat(10_000)
    ))
    .await;
    assert_eq!(ana.error().await.0, ErrorCode::TooLarge);

    match ana.command(Command::Seek { position: -3.0 }).await {
        ServerMsg::Error { code, message, .. } => {
            assert_eq!(code, ErrorCode::InvalidCommand);
            assert!(message.contains("not a valid time"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match ana.command(Command::SetRate { rate: 10.0 }).await {
        ServerMsg::Error { code, .. } => assert_eq!(code, ErrorCode::InvalidCommand),
        other => panic!("{other:?}"),
    }
    match ana.command(Command::QueueRemove { entry: 999 }).await {
        ServerMsg::Error { code, .. } => assert_eq!(code, ErrorCode::InvalidCommand),
        other => panic!("{other:?}"),
    }
    // A stale version: a queue move based on what Ana saw before someone else changed things.
    ana.ok(Command::QueueAdd {
        rating_key: "102".into(),
        title: "Copper Sky".into(),
    })
    .await;
    let seen = ana.session.version;
    let mut ben = Viewer::join(&base, &id, "Ben", None).await;
    ben.ok(Command::QueueAdd {
        rating_key: "105".into(),
        title: "Paper Satellites".into(),
    })
    .await;
    ana.send(json!({"type": "command", "id": 50, "base_version": seen, "command": {"op": "queue_move", "entry": 2, "to": 0}}))
        .await;
    let (version, code) = ana
        .until(|m| match m {
            ServerMsg::Error {
                id: Some(50),
                code,
                version,
                ..
            } => Some((*version, *code)),
            _ => None,
        })
        .await;
    assert_eq!(code, ErrorCode::StaleVersion);
    assert!(version.unwrap() > seen);

    // Nothing half-changed: the refused commands left playback alone.
    let after = snapshot(&app, &id).await;
    assert_eq!(after.playback, before.playback);
    assert_eq!(after.queue.len(), 3);

    // And the connection still works.
    ana.send(json!({"type": "ping", "t0": 123.0})).await;
    let pong = ana
        .until(|m| matches!(m, ServerMsg::Pong { .. }).then(|| m.clone()))
        .await;
    assert!(matches!(pong, ServerMsg::Pong { t0, t1, t2 } if t0 == 123.0 && t2 >= t1));
    ana.ok(Command::Play).await;
}

async fn unknown_sessions_are_refused_clearly(app: TestApp) {
    let base = app.running.url();
    for id in ["doesnotexist", "bad%20id"] {
        let mut ws = connect(&base, id).await;
        match recv_msg(&mut ws).await {
            ServerMsg::Error { code, message, .. } => {
                assert_eq!(code, ErrorCode::UnknownSession);
                assert!(message.contains("no watch session"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        match recv_raw(&mut ws).await {
            Some(Message::Close(Some(frame))) => assert_eq!(u16::from(frame.code), 4404),
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
    let r = app.get("/api/sessions/doesnotexist").await;
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "not_found");

    for (body, status) in [
        (json!({"rating_key": "999999", "name": "Ana"}), 404),
        (json!({"rating_key": "201", "name": "Ana"}), 400),
        (json!({"rating_key": "101", "name": ""}), 400),
        (json!({"rating_key": "../etc"}), 400),
    ] {
        let r = app
            .client
            .post(app.url("/api/sessions"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{body}");
        let err: serde_json::Value = r.json().await.unwrap();
        assert!(err["message"].as_str().is_some(), "{err}");
    }
}

async fn a_flood_is_rate_limited(app: TestApp) {
    let (id, host) = create_session(&app, "101", "Ana").await;
    let mut ana = Viewer::join(&app.running.url(), &id, "Ana", Some(&host)).await;
    for i in 0..100 {
        ana.send(json!({"type": "ping", "t0": i})).await;
    }
    let mut pongs = 0;
    let mut limited = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while let Ok(msg) = tokio::time::timeout_at(deadline, recv_msg(&mut ana.ws)).await {
        match msg {
            ServerMsg::Pong { .. } => pongs += 1,
            ServerMsg::Error {
                code: ErrorCode::RateLimited,
                ..
            } => limited += 1,
            _ => {}
        }
    }
    assert!((35..60).contains(&pongs), "burst answered: {pongs}");
    assert_eq!(limited, 1, "one notice, not one per dropped message");
    // The connection recovers once the client slows down.
    ana.send(json!({"type": "ping", "t0": 1.0})).await;
    ana.until(|m| matches!(m, ServerMsg::Pong { .. }).then_some(()))
        .await;
}

async fn when_the_host_leaves_the_role_passes_on(app: TestApp) {
    let (id, host) = create_session(&app, "101", "Ana").await;
    let base = app.running.url();
    let ana = Viewer::join(&base, &id, "Ana", Some(&host)).await;
    let mut ben = Viewer::join(&base, &id, "Ben", None).await;
    let mut cy = Viewer::join(&base, &id, "Cy", None).await;
    ben.ok(Command::Play).await;
    drop(ana);
    let heir = cy.host_change().await;
    assert_eq!(heir, ben.member, "the longest-present member inherits");
    // The session carries on: still playing, and the new host can drive it.
    assert!(cy.session.playback.playing);
    ben.ok(Command::Pause).await;
    let s = snapshot(&app, &id).await;
    assert_eq!(s.host().unwrap().name, "Ben");
    assert!(!s.member(&host.member).unwrap().online());
    // Ana coming back is a viewer now; permissions don't break.
    let mut ana = Viewer::join(&base, &id, "Ana", Some(&host)).await;
    assert_eq!(ana.session.member(&host.member).unwrap().role, Role::Viewer);
    ana.ok(Command::Play).await;
}

async fn reconnecting_resumes_the_member_and_replays_are_not_applied_twice(app: TestApp) {
    let (id, host) = create_session(&app, "101", "Ana").await;
    let base = app.running.url();
    let mut ben = Viewer::join(&base, &id, "Ben", None).await;
    let ben_id = ben.member.clone();
    let ben_rejoin = ben.rejoin();
    ben.next_id = 7;
    let v = ben.ok(Command::Seek { position: 30.0 }).await;
    drop(ben);

    // Meanwhile the session moves on.
    let mut ana = Viewer::join(&base, &id, "Ana", Some(&host)).await;
    ana.ok(Command::Play).await;

    // Ben's connection comes back: same member, fresh snapshot with what he missed.
    let mut ben = Viewer::join(&base, &id, "Ben", Some(&ben_rejoin)).await;
    assert_eq!(ben.member, ben_id);
    assert_eq!(ben.session.members.len(), 2);
    assert!(ben.session.playback.playing, "the snapshot has Ana's play");
    assert!(ben.session.version > v);
    // His client replays the seek it never saw acknowledged: acknowledged, not applied again.
    let version_before = ben.session.version;
    ben.next_id = 7;
    match ben.command(Command::Seek { position: 30.0 }).await {
        ServerMsg::Ack {
            duplicate, version, ..
        } => {
            assert!(duplicate);
            assert_eq!(version, version_before);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(snapshot(&app, &id).await.version, version_before);
}

async fn a_buffering_viewer_holds_the_group_then_it_carries_on(app: TestApp) {
    let (id, host) = create_session(&app, "101", "Ana").await;
    let base = app.running.url();
    let mut ana = Viewer::join(&base, &id, "Ana", Some(&host)).await;
    let mut ben = Viewer::join(&base, &id, "Ben", None).await;
    ana.ok(Command::Play).await;
    ben.playback_event().await;

    // Ben stalls: everyone pauses and sees who they are waiting for.
    ben.send(json!({"type": "status", "buffering": true})).await;
    let (_, cause, pb) = ana.playback_event().await;
    assert_eq!(cause, Cause::Waiting);
    assert!(!pb.playing);
    let wait = ana.session.wait.clone().expect("waiting");
    assert_eq!(wait.members, vec![ben.member.clone()]);
    let change = Change::Playback {
        playback: pb,
        wait: Some(wait.clone()),
        cause,
    };
    assert_eq!(
        describe(None, &change, &ana.session).as_deref(),
        Some("Waiting for Ben…")
    );
    // Ben recovers: the group resumes together from where it held.
    ben.send(json!({"type": "status", "buffering": false}))
        .await;
    let (_, cause, resumed) = ana.playback_event().await;
    assert_eq!(cause, Cause::Resumed);
    assert!(resumed.playing);
    assert_eq!(resumed.position, pb.position);

    // Ben stalls for good: after the bound the group carries on without him.
    ben.send(json!({"type": "status", "buffering": true})).await;
    let (_, cause, _) = ana.playback_event().await;
    assert_eq!(cause, Cause::Waiting);
    let started = std::time::Instant::now();
    let (_, cause, pb) = ana.playback_event().await;
    let waited = started.elapsed();
    assert_eq!(
        cause,
        Cause::CarriedOn {
            without: vec![ben.member.clone()]
        }
    );
    assert!(pb.playing);
    assert!(
        waited >= Duration::from_secs(7) && waited < Duration::from_secs(10),
        "waited {waited:?} (bound 8 s)"
    );
}

async fn the_queue_drives_what_plays(app: TestApp) {
    let (id, host) = create_session(&app, "101", "Ana").await;
    let base = app.running.url();
    let mut ana = Viewer::join(&base, &id, "Ana", Some(&host)).await;
    let mut ben = Viewer::join(&base, &id, "Ben", None).await;
    ana.ok(Command::QueueAdd {
        rating_key: "105".into(),
        title: "Paper Satellites".into(),
    })
    .await;
    ana.ok(Command::Play).await;
    ben.ok(Command::Next).await;
    let (by, cause, pb) = ana.playback_event().await;
    assert_eq!(by.as_deref(), Some("Ben"));
    assert!(matches!(cause, Cause::Item { .. }));
    assert_eq!(pb.position, 0.0);
    assert_eq!(
        ana.session.current_entry().unwrap().rating_key,
        "105",
        "the new item is current"
    );
    // Everyone loads it; when both report ready the group starts together.
    ana.send(json!({"type": "status", "buffering": false}))
        .await;
    let (_, cause, _) = ana.playback_event().await;
    assert_eq!(cause, Cause::Waiting, "now only waiting for Ben");
    assert_eq!(
        ana.session.wait.as_ref().unwrap().members,
        vec![ben.member.clone()]
    );
    ben.send(json!({"type": "status", "buffering": false}))
        .await;
    let (_, cause, pb) = ana.playback_event().await;
    assert_eq!(cause, Cause::Resumed);
    assert!(pb.playing);
    match ben.command(Command::Next).await {
        ServerMsg::Error { message, .. } => assert!(message.contains("nothing after")),
        other => panic!("{other:?}"),
    }
}

async fn a_session_survives_a_server_restart(app: TestApp) {
    let mode = app.mode();
    let (id, host) = create_session(&app, "101", "Ana").await;
    let mut ana = Viewer::join(&app.running.url(), &id, "Ana", Some(&host)).await;
    ana.ok(Command::QueueAdd {
        rating_key: "105".into(),
        title: "Paper Satellites".into(),
    })
    .await;
    ana.ok(Command::Seek { position: 42.0 }).await;
    let before = snapshot(&app, &id).await;
    drop(ana);
    tokio::time::sleep(Duration::from_millis(200)).await;

    // A new server process on the same data (same SQLite file, or same PostgreSQL database).
    let config = app.running.config.clone();
    app.running.shutdown().await;
    let restarted = server::startup::spawn(&config).await.unwrap();
    let url = restarted.url();
    let client = reqwest::Client::new();
    let after: Session = client
        .get(format!("{url}/api/sessions/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after.queue, before.queue);
    assert_eq!(after.playback.position, 42.0);
    assert_eq!(after.host().unwrap().id, host.member);
    if let Mode::Embedded = mode {
        assert!(after.members.iter().all(|m| !m.online()));
    }
    // And it is usable: Ana rejoins as herself.
    let mut ana = Viewer::join(&url, &id, "Ana", Some(&host)).await;
    assert_eq!(ana.member, host.member);
    ana.ok(Command::Play).await;
    restarted.shutdown().await;
}

/// Two server processes sharing PostgreSQL + Redis: viewers on different processes follow
/// each other's commands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_on_two_servers_stay_together_through_redis() {
    let plex = helpers::start_fake_plex().await;
    let db = helpers::fresh_postgres_database().await.url;
    let redis = (helpers::redis_url(), helpers::fresh_redis_namespace().await);
    let a = helpers::spawn_with_plex(&plex, Some(db.clone()), Some(redis.clone())).await;
    let b = helpers::spawn_with_plex(&plex, Some(db), Some(redis)).await;
    let (id, host) = create_session(&a, "101", "Ana").await;
    let mut ana = Viewer::join(&a.running.url(), &id, "Ana", Some(&host)).await;
    let mut ben = Viewer::join(&b.running.url(), &id, "Ben", None).await;
    ana.until(|m| matches!(m, ServerMsg::Event { .. }).then_some(()))
        .await;

    ana.ok(Command::Play).await;
    let (by, cause, _) = ben.playback_event().await;
    assert_eq!((by.as_deref(), cause), (Some("Ana"), Cause::Play));
    ben.ok(Command::Seek { position: 20.0 }).await;
    let (by, _, pb) = ana.playback_event().await;
    assert_eq!(by.as_deref(), Some("Ben"));
    assert_eq!(pb.position, 20.0);
    assert_eq!(ana.session, ben.session, "both mirrors agree");
    // The host leaving on one process hands the role to the member on the other.
    drop(ana);
    let heir = ben.host_change().await;
    assert_eq!(heir, ben.member);
}
