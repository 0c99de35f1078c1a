//! Viewers' linked Plex accounts (see the `plex_accounts` migration). The store keeps the token
//! only as sealed by [`crate::secret::TokenSealer`]; it never sees it in the clear.

use diesel::OptionalExtension;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;

use super::schema::plex_accounts;
use super::{DbPool, SqliteAsync, Store, StoreError, now};
use diesel_async::AsyncPgConnection;

/// A Discord user's linked Plex account.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = plex_accounts)]
pub struct PlexAccountRow {
    pub discord_id: String,
    pub plex_id: i64,
    pub plex_username: String,
    pub plex_thumb: Option<String>,
    /// The account's server token, sealed.
    pub sealed_token: String,
    pub linked_at: chrono::NaiveDateTime,
}

impl Store {
    /// Links (or re-links) `discord_id` to a Plex account.
    pub async fn put_plex_account(
        &self,
        discord_id: &str,
        plex_id: i64,
        plex_username: &str,
        plex_thumb: Option<&str>,
        sealed_token: &str,
    ) -> Result<(), StoreError> {
        let ts = now();
        with_conn!(self, |conn| {
            diesel::insert_into(plex_accounts::table)
                .values((
                    plex_accounts::discord_id.eq(discord_id),
                    plex_accounts::plex_id.eq(plex_id),
                    plex_accounts::plex_username.eq(plex_username),
                    plex_accounts::plex_thumb.eq(plex_thumb),
                    plex_accounts::sealed_token.eq(sealed_token),
                    plex_accounts::linked_at.eq(ts),
                ))
                .on_conflict(plex_accounts::discord_id)
                .do_update()
                .set((
                    plex_accounts::plex_id.eq(excluded(plex_accounts::plex_id)),
                    plex_accounts::plex_username.eq(excluded(plex_accounts::plex_username)),
                    plex_accounts::plex_thumb.eq(excluded(plex_accounts::plex_thumb)),
                    plex_accounts::sealed_token.eq(excluded(plex_accounts::sealed_token)),
                    plex_accounts::linked_at.eq(excluded(plex_accounts::linked_at)),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    /// The Plex account `discord_id` linked, if any.
    pub async fn plex_account(
        &self,
        discord_id: &str,
    ) -> Result<Option<PlexAccountRow>, StoreError> {
        with_conn!(self, |conn| {
            Ok(plex_accounts::table
                .find(discord_id)
                .select(PlexAccountRow::as_select())
                .first(conn)
                .await
                .optional()?)
        })
    }

    /// The linked Plex accounts of these Discord users (those who linked one).
    pub async fn plex_accounts_of(
        &self,
        discord_ids: &[String],
    ) -> Result<Vec<PlexAccountRow>, StoreError> {
        if discord_ids.is_empty() {
            return Ok(Vec::new());
        }
        with_conn!(self, |conn| {
            Ok(plex_accounts::table
                .filter(plex_accounts::discord_id.eq_any(discord_ids))
                .select(PlexAccountRow::as_select())
                .load(conn)
                .await?)
        })
    }

    /// Unlinks `discord_id`'s Plex account; whether there was one.
    pub async fn delete_plex_account(&self, discord_id: &str) -> Result<bool, StoreError> {
        with_conn!(self, |conn| {
            let n = diesel::delete(plex_accounts::table.find(discord_id))
                .execute(conn)
                .await?;
            Ok(n > 0)
        })
    }
}
