//! Rejoin keys of anonymous session members (see the `member_keys` migration): the key's hash
//! per (session, member). Signed-in members need none: their sign-in says who they are.

use diesel::OptionalExtension;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::member_keys;
use super::{DbPool, SqliteAsync, Store, StoreError, now};
use diesel_async::AsyncPgConnection;

impl Store {
    /// Records the hash of `member`'s rejoin key in `session` (replacing an older one).
    pub async fn put_member_key(
        &self,
        session: &str,
        member: &str,
        key_hash: &str,
    ) -> Result<(), StoreError> {
        let ts = now();
        with_conn!(self, |conn| {
            diesel::insert_into(member_keys::table)
                .values((
                    member_keys::session_id.eq(session),
                    member_keys::member_id.eq(member),
                    member_keys::key_hash.eq(key_hash),
                    member_keys::created_at.eq(ts),
                ))
                .on_conflict((member_keys::session_id, member_keys::member_id))
                .do_update()
                .set((
                    member_keys::key_hash.eq(key_hash),
                    member_keys::created_at.eq(ts),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    /// The stored hash of `member`'s rejoin key in `session`, if it has one.
    pub async fn member_key_hash(
        &self,
        session: &str,
        member: &str,
    ) -> Result<Option<String>, StoreError> {
        with_conn!(self, |conn| {
            Ok(member_keys::table
                .filter(member_keys::session_id.eq(session))
                .filter(member_keys::member_id.eq(member))
                .select(member_keys::key_hash)
                .first(conn)
                .await
                .optional()?)
        })
    }

    /// Forgets the keys of members who are gone from `session`.
    pub async fn delete_member_keys(
        &self,
        session: &str,
        members: &[String],
    ) -> Result<u64, StoreError> {
        if members.is_empty() {
            return Ok(0);
        }
        with_conn!(self, |conn| {
            let n = diesel::delete(
                member_keys::table
                    .filter(member_keys::session_id.eq(session))
                    .filter(member_keys::member_id.eq_any(members)),
            )
            .execute(conn)
            .await?;
            Ok(n as u64)
        })
    }
}
