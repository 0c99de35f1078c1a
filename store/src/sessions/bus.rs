//! The session event bus: how every server process hears about every session change.
//!
//! Embedded mode uses an in-process broadcast channel. With Redis, each change is `PUBLISH`ed
//! on one channel per namespace and every process runs a subscriber that feeds the same local
//! channel, so the hub above never knows which mode it is in. A publishing process receives its
//! own events back through Redis, so there is exactly one delivery path in scale-out mode.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, oneshot};

use marquee_sync::{Actor, Change};

/// Local fan-out capacity: a subscriber this far behind is told it lagged (and resyncs).
const LOCAL_CAPACITY: usize = 1024;

/// One accepted change to one session, as broadcast to all processes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionEvent {
    pub session: String,
    pub version: u64,
    pub by: Option<Actor>,
    pub changes: Vec<Change>,
}

/// Why the bus could not start or publish.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("redis pub/sub: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis pool: {0}")]
    Pool(String),
    #[error("event encoding: {0}")]
    Encode(#[from] serde_json::Error),
}

/// See the module docs.
#[derive(Clone)]
pub struct Bus {
    local: broadcast::Sender<Arc<SessionEvent>>,
    redis: Option<RedisSide>,
}

#[derive(Clone)]
struct RedisSide {
    pool: deadpool_redis::Pool,
    channel: String,
}

impl Bus {
    /// Events stay inside this process.
    pub fn in_process() -> Self {
        Self {
            local: broadcast::channel(LOCAL_CAPACITY).0,
            redis: None,
        }
    }

    /// Events go through Redis channel `<namespace>:session-events`. Returns once the
    /// subscription is live, so no event published after this returns is missed.
    pub async fn redis(url: &str, namespace: &str) -> Result<Self, BusError> {
        let channel = format!("{namespace}:session-events");
        let pool = deadpool_redis::Config::from_url(url)
            .create_pool(Some(deadpool_redis::Runtime::Tokio1))
            .map_err(|e| BusError::Pool(e.to_string()))?;
        let client = redis::Client::open(url)?;
        let local = broadcast::channel(LOCAL_CAPACITY).0;
        let (ready_tx, ready_rx) = oneshot::channel();
        tokio::spawn(subscriber(client, channel.clone(), local.clone(), ready_tx));
        match ready_rx.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(BusError::Pool("subscriber task ended".into())),
        }
        Ok(Self {
            local,
            redis: Some(RedisSide { pool, channel }),
        })
    }

    /// Which transport carries events (for logs and `/healthz`).
    pub fn kind(&self) -> &'static str {
        if self.redis.is_some() {
            "redis"
        } else {
            "in-process"
        }
    }

    /// Sends an event to every process (including this one).
    pub async fn publish(&self, event: SessionEvent) -> Result<(), BusError> {
        match &self.redis {
            None => {
                // No receivers is fine: nobody is watching this session here.
                let _ = self.local.send(Arc::new(event));
                Ok(())
            }
            Some(side) => {
                let payload = serde_json::to_string(&event)?;
                let mut conn = side
                    .pool
                    .get()
                    .await
                    .map_err(|e| BusError::Pool(e.to_string()))?;
                redis::cmd("PUBLISH")
                    .arg(&side.channel)
                    .arg(payload)
                    .query_async::<i64>(&mut conn)
                    .await?;
                Ok(())
            }
        }
    }

    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<SessionEvent>> {
        self.local.subscribe()
    }
}

/// Keeps a Redis subscription alive, forwarding events to the local channel; reconnects with
/// backoff when Redis goes away. Reports the first subscription's outcome on `ready`.
async fn subscriber(
    client: redis::Client,
    channel: String,
    local: broadcast::Sender<Arc<SessionEvent>>,
    ready: oneshot::Sender<Result<(), BusError>>,
) {
    let mut ready = Some(ready);
    let mut backoff = Duration::from_millis(200);
    loop {
        let subscribed = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        }
        .await;
        match subscribed {
            Ok(pubsub) => {
                if let Some(tx) = ready.take() {
                    let _ = tx.send(Ok(()));
                } else {
                    tracing::info!("session events: resubscribed to redis");
                }
                backoff = Duration::from_millis(200);
                let mut messages = pubsub.into_on_message();
                while let Some(msg) = messages.next().await {
                    let payload: String = match msg.get_payload() {
                        Ok(p) => p,
                        Err(e) => {
                            tracing::warn!(error = %e, "session events: unreadable payload");
                            continue;
                        }
                    };
                    match serde_json::from_str::<SessionEvent>(&payload) {
                        Ok(event) => {
                            let _ = local.send(Arc::new(event));
                        }
                        Err(e) => tracing::warn!(error = %e, "session events: bad event"),
                    }
                }
                tracing::warn!("session events: redis subscription ended; reconnecting");
            }
            Err(e) => {
                if let Some(tx) = ready.take() {
                    let _ = tx.send(Err(e.into()));
                    return;
                }
                tracing::warn!(error = %e, "session events: redis unreachable; retrying");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}
