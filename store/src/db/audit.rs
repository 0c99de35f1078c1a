//! The audit log (see the `audit_events` migration): what people did, for the operator.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;

use super::schema::audit_events;
use super::{DbPool, SqliteAsync, Store, StoreError, now};
use diesel_async::AsyncPgConnection;

/// One thing someone did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: i64,
    /// UTC.
    pub at: chrono::NaiveDateTime,
    /// Who, as shown ("ana", "admin", "Marquee").
    pub actor: String,
    /// Their id: a session member id (`discord:…` or an anonymous one), or none.
    pub actor_id: Option<String>,
    /// What: a session command (`play`, `seek`, `set_role`, …), `sign_in`, `settings`, an
    /// admin action.
    pub action: String,
    pub session_id: Option<String>,
    /// The particulars, as JSON text (the command, the setting and its value).
    pub detail: String,
}

/// An event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEvent {
    pub actor: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub session_id: Option<String>,
    pub detail: String,
}

/// Which events to list: all filters optional, newest first, `before` an id for paging.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub session_id: Option<String>,
    pub actor_id: Option<String>,
    pub before: Option<i64>,
    pub limit: i64,
}

impl Store {
    /// Records an event.
    pub async fn record_audit(&self, event: &NewAuditEvent) -> Result<(), StoreError> {
        let ts = now();
        with_conn!(self, |conn| {
            diesel::insert_into(audit_events::table)
                .values((
                    audit_events::at.eq(ts),
                    audit_events::actor.eq(&event.actor),
                    audit_events::actor_id.eq(&event.actor_id),
                    audit_events::action.eq(&event.action),
                    audit_events::session_id.eq(&event.session_id),
                    audit_events::detail.eq(&event.detail),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    /// Events matching `filter`, newest first (at most `filter.limit`, 1–500).
    pub async fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
        let limit = filter.limit.clamp(1, 500);
        with_conn!(self, |conn| {
            let mut query = audit_events::table.into_boxed();
            if let Some(action) = &filter.action {
                query = query.filter(audit_events::action.eq(action));
            }
            if let Some(session) = &filter.session_id {
                query = query.filter(audit_events::session_id.eq(session));
            }
            if let Some(actor) = &filter.actor_id {
                query = query.filter(audit_events::actor_id.eq(actor));
            }
            if let Some(before) = filter.before {
                query = query.filter(audit_events::id.lt(before));
            }
            Ok(query
                .order(audit_events::id.desc())
                .limit(limit)
                .select(AuditEvent::as_select())
                .load(conn)
                .await?)
        })
    }

    /// Forgets events older than `before`; how many went.
    pub async fn purge_audit(&self, before: chrono::NaiveDateTime) -> Result<u64, StoreError> {
        with_conn!(self, |conn| {
            let n = diesel::delete(audit_events::table.filter(audit_events::at.lt(before)))
                .execute(conn)
                .await?;
            Ok(n as u64)
        })
    }
}

impl NewAuditEvent {
    /// A session command carried out for a member: the action is the command's name (`play`,
    /// `seek`, `set_role`, …), the detail the command itself.
    pub fn command(
        session_id: &str,
        member_id: &str,
        name: &str,
        command: &marquee_sync::Command,
    ) -> Self {
        let value = serde_json::to_value(command).unwrap_or_default();
        NewAuditEvent {
            actor: name.to_owned(),
            actor_id: Some(member_id.to_owned()),
            action: value["op"].as_str().unwrap_or("command").to_owned(),
            session_id: Some(session_id.to_owned()),
            detail: value.to_string(),
        }
    }
}

impl Store {
    /// Records an event without holding up the caller (the command it follows is already
    /// done): a failure is logged.
    pub fn record_audit_later(&self, event: NewAuditEvent) {
        let store = self.clone();
        tokio::spawn(async move {
            if let Err(e) = store.record_audit(&event).await {
                tracing::warn!(action = event.action, error = %e, "could not write the audit log");
            }
        });
    }
}
