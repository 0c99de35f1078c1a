//! A room's planner: the task that does what a session needs done without anyone asking.
//!
//! It describes queued entries from Plex (their length, intro and credits markers, and for an
//! episode the one after it), then sleeps until the session's next milestone
//! ([`Session::next_milestone`](marquee_sync::Session::next_milestone): an intro to skip, the end
//! of the "Up next" countdown, the end of the item) and applies [`Session::tick`] then. The hub
//! wakes it whenever the playback line, the queue or the options change, so it always sleeps
//! toward the current plan. It also feeds the room's progress [`Reporter`], which tells Plex
//! what the group watches, and records the item as watched (telling Plex once) when the group
//! passes [`Session::watched_from`](marquee_sync::Session::watched_from). Every process with
//! viewers of the session runs one; the store's version check lets one write win and the others
//! find nothing left to do.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use marquee_store::{SessionStore, SessionStoreError};
use marquee_sync::Change;
use tokio::sync::Notify;

use super::now_ms;
use super::progress::{Outgoing, ProgressConfig, Report, Reporter, present_viewers};

/// A Plex lookup that failed is not tried again for this long (the entry simply has no end
/// until it is described).
const RETRY_DESCRIBE: Duration = Duration::from_secs(30);
/// After a milestone that turned out to need nothing, the planner looks again this much later.
const IDLE_TICK: Duration = Duration::from_millis(250);
/// A store failure is retried after this long.
const RETRY_STORE: Duration = Duration::from_secs(2);

/// Whether a change can move the room's plan (and so wakes its planner).
pub fn moves_the_plan(change: &Change) -> bool {
    matches!(
        change,
        Change::Playback { .. }
            | Change::Queue { .. }
            | Change::Options { .. }
            | Change::Ending { .. }
            | Change::UpNextCancelled
    )
}

/// Runs until the room closes (the hub aborts it).
pub async fn run(
    sessions: SessionStore,
    library: Arc<app::ssr::Library>,
    progress: ProgressConfig,
    session: String,
    replan: Arc<Notify>,
) {
    let mut failed: HashMap<String, Instant> = HashMap::new();
    let mut reporter = Reporter::new(&session, progress.every);
    let reports = super::progress::sender(progress.clone(), session.clone());
    loop {
        let current = match sessions.get(&session).await {
            Ok(Some(s)) => s,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(session, error = %e, "planner could not load the session");
                tokio::select! {
                    _ = replan.notified() => {}
                    _ = tokio::time::sleep(RETRY_STORE) => {}
                }
                continue;
            }
        };
        let mut described = false;
        for (entry, key) in current.undescribed() {
            if failed
                .get(&key)
                .is_some_and(|at| at.elapsed() < RETRY_DESCRIBE)
            {
                continue;
            }
            match app::ssr::entries::describe(&library, &key).await {
                Ok(info) => {
                    failed.remove(&key);
                    let result = sessions
                        .update(&session, None, |s| {
                            Ok((s.describe_entry(entry, info.clone()), ()))
                        })
                        .await;
                    match result {
                        Ok(u) => described |= !u.changes.is_empty(),
                        Err(SessionStoreError::NotFound(_)) => return,
                        Err(e) => {
                            tracing::warn!(session, error = %e, "could not store an item's description")
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(session, rating_key = %key, error = %e, "could not describe a queued item");
                    failed.insert(key, Instant::now());
                }
            }
        }
        if described {
            continue; // plan with what was just stored
        }
        let mut current = current;
        // Only a session past the point (on this copy) pays for the versioned write.
        let due_watched = !current.ending.watched
            && current
                .watched_from()
                .is_some_and(|from| current.position_at(now_ms()) >= from - 0.05);
        if let Some(key) = current
            .current_entry()
            .filter(|_| due_watched)
            .map(|e| e.rating_key.clone())
        {
            match sessions
                .update(&session, None, |s| Ok((s.mark_watched(now_ms()), ())))
                .await
            {
                // This process recorded it: it alone tells Plex.
                Ok(u) if !u.changes.is_empty() => {
                    let _ = reports.send(Outgoing {
                        report: Report::Scrobble(key),
                        viewers: present_viewers(&u.session),
                    });
                    current = u.session;
                }
                Ok(_) => {}
                Err(SessionStoreError::NotFound(_)) => return,
                Err(e) => {
                    tracing::warn!(session, error = %e, "could not record an item as watched")
                }
            }
        }
        for report in reporter.observe(&current, now_ms(), Instant::now()) {
            let _ = reports.send(Outgoing {
                report,
                viewers: present_viewers(&current),
            });
        }
        let retry_in = failed
            .values()
            .map(|at| RETRY_DESCRIBE.saturating_sub(at.elapsed()))
            .min();
        let due = current.next_milestone(now_ms());
        let wait_ms = due.map(|d| (d - now_ms()).max(0.0));
        let sleep = wait_ms
            .into_iter()
            .chain(watched_in_ms(&current, now_ms()))
            .map(|ms| Duration::from_secs_f64(ms / 1000.0))
            .chain(retry_in)
            .chain(
                reporter
                    .next_due()
                    .map(|at| at.saturating_duration_since(Instant::now())),
            )
            .min();
        tokio::select! {
            _ = replan.notified() => continue,
            _ = sleep_for(sleep) => {}
        }
        if due.is_some_and(|d| d <= now_ms()) {
            let result = sessions
                .update(&session, None, |s| Ok((s.tick(now_ms()), ())))
                .await;
            match result {
                // Nothing was due after all (the line moved at that very moment): do not spin.
                Ok(u) if u.changes.is_empty() => {
                    tokio::select! {
                        _ = replan.notified() => {}
                        _ = tokio::time::sleep(IDLE_TICK) => {}
                    }
                }
                Ok(_) => {}
                Err(SessionStoreError::NotFound(_)) => return,
                Err(e) => {
                    tracing::warn!(session, error = %e, "could not act at the end of an item");
                    tokio::time::sleep(RETRY_STORE).await;
                }
            }
        }
    }
}

/// How long until a playing group passes the point where the item counts as watched.
fn watched_in_ms(s: &marquee_sync::Session, now: f64) -> Option<f64> {
    let from = s.watched_from()?;
    if s.ending.watched {
        return None;
    }
    s.playback.reaches(from, now).map(|at| at - now)
}

/// Sleeps for `d`, or forever without one.
async fn sleep_for(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}
