//! Refresh tokens: stored hashed, grouped in families (one per sign-in), used once each.

use chrono::NaiveDateTime;
use diesel::OptionalExtension;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

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

/// Most passes of [`Store::revoke_refresh_family`]; each rotation racing it needs a valid
/// token of the family, which the pass before revoked, so two or three always suffice.
const REVOKE_PASSES: usize = 8;

/// A stored token: user, family, used, revoked, expires, successor.
type StoredToken = (
    i64,
    String,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    NaiveDateTime,
    Option<String>,
);

/// What presenting a token that could not be used means.
fn classify(
    found: Option<StoredToken>,
    next_hash: &str,
    successor_fresh: bool,
    now: NaiveDateTime,
    grace: std::time::Duration,
) -> Rotation {
    let Some((user_id, family, used, revoked, expires, successor)) = found else {
        return Rotation::Unknown;
    };
    let grace = chrono::TimeDelta::from_std(grace).unwrap_or_default();
    match (used, revoked) {
        (Some(at), None)
            if successor_fresh && successor.as_deref() == Some(next_hash) && now - at <= grace =>
        {
            Rotation::Rotated { user_id, family }
        }
        (Some(_), _) | (_, Some(_)) => Rotation::Reused { family },
        _ if expires <= now => Rotation::Expired,
        // Valid, yet the conditional update did not take it: cannot happen inside one
        // transaction; answer as unknown rather than guess.
        _ => Rotation::Unknown,
    }
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

    /// Uses the token with hash `hash` and stores `next_hash` as its successor, in one
    /// transaction: the token is used and its successor exists, or neither.
    ///
    /// The caller derives the successor from the presented token, so two requests presenting
    /// the same token at once (two tabs) ask for the same successor. The first to commit uses
    /// the token; the second finds it used, by that same successor, less than `grace` ago, and
    /// (while that successor is itself unused) is answered like the first. Any other use of a used or revoked token is a replay: the
    /// whole family is revoked.
    pub async fn rotate_refresh_token(
        &self,
        hash: &str,
        next_hash: &str,
        next_expires_at: NaiveDateTime,
        grace: std::time::Duration,
    ) -> Result<Rotation, StoreError> {
        let ts = now();
        let outcome: Result<Rotation, diesel::result::Error> = with_conn!(self, |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                // A write first, so SQLite takes its write lock before anything is read.
                let used: Option<(i64, String)> = diesel::update(
                    refresh_tokens::table
                        .filter(refresh_tokens::token_hash.eq(hash))
                        .filter(refresh_tokens::used_at.is_null())
                        .filter(refresh_tokens::revoked_at.is_null())
                        .filter(refresh_tokens::expires_at.gt(ts)),
                )
                .set((
                    refresh_tokens::used_at.eq(ts),
                    refresh_tokens::successor_hash.eq(next_hash),
                ))
                .returning((refresh_tokens::user_id, refresh_tokens::family))
                .get_result(conn)
                .await
                .optional()?;
                if let Some((user_id, family)) = used {
                    diesel::insert_into(refresh_tokens::table)
                        .values((
                            refresh_tokens::token_hash.eq(next_hash),
                            refresh_tokens::user_id.eq(user_id),
                            refresh_tokens::family.eq(&family),
                            refresh_tokens::expires_at.eq(next_expires_at),
                            refresh_tokens::created_at.eq(ts),
                        ))
                        .execute(conn)
                        .await?;
                    return Ok(Rotation::Rotated { user_id, family });
                }
                let found: Option<StoredToken> = refresh_tokens::table
                    .filter(refresh_tokens::token_hash.eq(hash))
                    .select((
                        refresh_tokens::user_id,
                        refresh_tokens::family,
                        refresh_tokens::used_at,
                        refresh_tokens::revoked_at,
                        refresh_tokens::expires_at,
                        refresh_tokens::successor_hash,
                    ))
                    .first(conn)
                    .await
                    .optional()?;
                // The successor must still be unused: once the first tab has moved on, the
                // old token is dead for everyone.
                let successor_fresh: bool = refresh_tokens::table
                    .filter(refresh_tokens::token_hash.eq(next_hash))
                    .filter(refresh_tokens::used_at.is_null())
                    .filter(refresh_tokens::revoked_at.is_null())
                    .count()
                    .get_result::<i64>(conn)
                    .await?
                    > 0;
                Ok(classify(found, next_hash, successor_fresh, ts, grace))
            })
            .await
        });
        let outcome = outcome?;
        if let Rotation::Reused { family } = &outcome {
            self.revoke_refresh_family(family).await?;
        }
        Ok(outcome)
    }

    /// Revokes every token of a family (sign-out, or a detected replay). A rotation that
    /// committed while this ran may have added a successor the first pass could not see, so
    /// passes repeat until one finds nothing left to revoke.
    pub async fn revoke_refresh_family(&self, family: &str) -> Result<u64, StoreError> {
        let mut total = 0;
        for _ in 0..REVOKE_PASSES {
            let ts = now();
            let n: usize = with_conn!(self, |conn| {
                diesel::update(
                    refresh_tokens::table
                        .filter(refresh_tokens::family.eq(family))
                        .filter(refresh_tokens::revoked_at.is_null()),
                )
                .set(refresh_tokens::revoked_at.eq(ts))
                .execute(conn)
                .await?
            });
            total += n as u64;
            if n == 0 {
                break;
            }
        }
        Ok(total)
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
