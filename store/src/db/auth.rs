//! Refresh tokens: stored hashed, grouped in families (one per sign-in), used once each.

use chrono::NaiveDateTime;
use diesel::OptionalExtension;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::refresh_tokens;
use super::{DbPool, SqliteAsync, Store, StoreError, now};

/// A refresh token to store.
#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    pub token_hash: String,
    pub user_id: i64,
    /// All tokens rotated from one sign-in share a family; reuse of any revokes them all.
    pub family: String,
    pub expires_at: NaiveDateTime,
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// Valid: it is now used, and `next` replaces it.
    Rotated {
        user_id: i64,
        family: String,
    },
    /// Already used or revoked: someone replayed it, so its whole family is now revoked.
    Reused {
        family: String,
    },
    Expired,
    Unknown,
}

impl Store {
    pub async fn insert_refresh_token(&self, new: &NewRefreshToken) -> Result<(), StoreError> {
        let ts = now();
        with_conn!(self, |conn| {
            diesel::insert_into(refresh_tokens::table)
                .values((
                    refresh_tokens::token_hash.eq(&new.token_hash),
                    refresh_tokens::user_id.eq(new.user_id),
                    refresh_tokens::family.eq(&new.family),
                    refresh_tokens::expires_at.eq(new.expires_at),
                    refresh_tokens::created_at.eq(ts),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    /// Uses the token with hash `hash` and stores `next` in its place. The "use" is one
    /// conditional UPDATE, so of two requests presenting the same token only one can win; the
    /// other is treated as a replay.
    pub async fn rotate_refresh_token(
        &self,
        hash: &str,
        next_hash: &str,
        next_expires_at: NaiveDateTime,
    ) -> Result<Rotation, StoreError> {
        let ts = now();
        let used: Option<(i64, String)> = with_conn!(self, |conn| {
            diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::token_hash.eq(hash))
                    .filter(refresh_tokens::used_at.is_null())
                    .filter(refresh_tokens::revoked_at.is_null())
                    .filter(refresh_tokens::expires_at.gt(ts)),
            )
            .set(refresh_tokens::used_at.eq(ts))
            .returning((refresh_tokens::user_id, refresh_tokens::family))
            .get_result(conn)
            .await
            .optional()?
        });
        if let Some((user_id, family)) = used {
            self.insert_refresh_token(&NewRefreshToken {
                token_hash: next_hash.to_owned(),
                user_id,
                family: family.clone(),
                expires_at: next_expires_at,
            })
            .await?;
            return Ok(Rotation::Rotated { user_id, family });
        }
        let found: Option<(
            String,
            Option<NaiveDateTime>,
            Option<NaiveDateTime>,
            NaiveDateTime,
        )> = with_conn!(self, |conn| {
            refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(hash))
                .select((
                    refresh_tokens::family,
                    refresh_tokens::used_at,
                    refresh_tokens::revoked_at,
                    refresh_tokens::expires_at,
                ))
                .first(conn)
                .await
                .optional()?
        });
        match found {
            None => Ok(Rotation::Unknown),
            Some((family, used, revoked, _)) if used.is_some() || revoked.is_some() => {
                self.revoke_refresh_family(&family).await?;
                Ok(Rotation::Reused { family })
            }
            Some(_) => Ok(Rotation::Expired),
        }
    }

    /// Revokes every token of a family (sign-out, or a detected replay).
    pub async fn revoke_refresh_family(&self, family: &str) -> Result<u64, StoreError> {
        let ts = now();
        with_conn!(self, |conn| {
            let n = diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::family.eq(family))
                    .filter(refresh_tokens::revoked_at.is_null()),
            )
            .set(refresh_tokens::revoked_at.eq(ts))
            .execute(conn)
            .await?;
            Ok(n as u64)
        })
    }

    /// The family of a stored token, if it exists (for sign-out).
    pub async fn refresh_family_of(&self, hash: &str) -> Result<Option<String>, StoreError> {
        with_conn!(self, |conn| {
            Ok(refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(hash))
                .select(refresh_tokens::family)
                .first(conn)
                .await
                .optional()?)
        })
    }
}
