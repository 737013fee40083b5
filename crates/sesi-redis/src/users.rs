//! The user index behind "log out everywhere"
//! ([`SessionStore::save_user_session`](sesi_core::store::SessionStore::save_user_session)).
//!
//! A user's sessions are indexed in a sorted set at `<prefix>user:<user>` (the user id's bytes
//! as they are, see [`RedisStore::user_key`]): one member per session, its id in hex, scored by
//! the session's deadline in milliseconds since the epoch by the app server's clock (`+inf` for
//! a session without a time-to-live). The index key itself expires a minute after its latest
//! deadline, and has no expiry while it holds a session without one.
//!
//! In a cluster the index and a user's sessions live in different hash slots (on different
//! masters), and no command or script spans two slots. Consistency comes from the order of
//! single-slot steps instead:
//!
//! - A saved session is in its index before anyone can use it. A request that loaded a session
//!   (`update_only`) indexes it first, then saves it with `SET … XX`, which writes only over an
//!   existing key: a session revoked while the request was in flight stays revoked (its id may
//!   come back into the index, as a dead entry). A new session (a fresh id: a login) is written
//!   first and indexed second; its id reaches the browser only after both succeeded.
//! - So a session whose key is gone never comes back under that id, and a dead entry can be
//!   told from a live one by its key alone. The index drops entries a minute past their
//!   deadline on every save; listing skips entries whose session is gone and removes them;
//!   ending a user's sessions deletes each session key on its own slot, then removes every
//!   entry it went through.
//!
//! The race left: a new session being saved at the very moment its user's sessions are ended
//! may survive, when its entry is written after revocation read the index. It is indexed,
//! so the next revocation ends it.
//!
//! The minute of margin covers clocks that disagree (between app servers, and with Redis, which
//! counts a session's time-to-live from when its `SET` arrives): an entry is dropped, and the
//! index expires, only a minute after the deadline the saving server computed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sesi_core::store::{BoxFuture, SessionId, StoreError, StoredSession};

use crate::{RedisStore, millis, unavailable};

/// Updates the index `KEYS[1]`: adds the id `ARGV[3]` (unless empty) with the deadline score
/// `ARGV[4]`, removes the ids `ARGV[5..]`, drops entries scored before `ARGV[1]`, then sets the
/// index's expiry to its latest deadline plus `ARGV[2]` ms (none when that deadline is `inf`).
const INDEX: &str = "if ARGV[3] ~= '' then redis.call('zadd', KEYS[1], ARGV[4], ARGV[3]) end \
     for i = 5, #ARGV do redis.call('zrem', KEYS[1], ARGV[i]) end \
     redis.call('zremrangebyscore', KEYS[1], '-inf', '(' .. ARGV[1]) \
     local top = redis.call('zrange', KEYS[1], -1, -1, 'withscores') \
     local latest = top[2] and tonumber(top[2]) \
     if latest == nil then return 0 end \
     if latest == math.huge then redis.call('persist', KEYS[1]) \
     else redis.call('pexpireat', KEYS[1], string.format('%.0f', latest + tonumber(ARGV[2]))) end \
     return 1";

/// How far the deadlines in an index may be off from Redis's and other servers' clocks: a
/// member is pruned, and the index key expires, only this long after its deadline.
const CLOCK_MARGIN: Duration = Duration::from_secs(60);

/// Deadlines past this (2^53 ms, some 285 000 years) are indexed as `+inf`: they stay exact as
/// a double score, and `PEXPIREAT` would refuse them.
const MAX_DEADLINE_MS: u64 = 1 << 53;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

/// The score of a session saved at `now` (ms) with `ttl`: its deadline, or `+inf`.
fn deadline_score(now: u64, ttl: Option<Duration>) -> String {
    match ttl.map(|ttl| now.saturating_add(millis(ttl))) {
        Some(deadline) if deadline <= MAX_DEADLINE_MS => deadline.to_string(),
        _ => "+inf".to_owned(),
    }
}

/// Members scored before this (ms) ended more than [`CLOCK_MARGIN`] ago.
fn cutoff(now: u64) -> u64 {
    now.saturating_sub(millis(CLOCK_MARGIN))
}

/// The session ids among an index's members (anything else is ignored).
fn ids(members: &[Vec<u8>]) -> Vec<SessionId> {
    members
        .iter()
        .filter_map(|member| SessionId::from_hex(std::str::from_utf8(member).ok()?))
        .collect()
}

impl RedisStore {
    /// One command per id: `name <session key>`.
    fn per_session(&self, name: &str, ids: &[SessionId]) -> Vec<redis::Cmd> {
        ids.iter()
            .map(|id| {
                let mut cmd = redis::cmd(name);
                cmd.arg(self.key(*id));
                cmd
            })
            .collect()
    }

    /// The [`INDEX`] script on `user_key`, at `now`: `add` an id with its deadline score,
    /// `remove` ids.
    fn index_cmd(
        user_key: &str,
        now: u64,
        add: Option<(SessionId, Option<Duration>)>,
        remove: &[SessionId],
    ) -> redis::Cmd {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(INDEX)
            .arg(1)
            .arg(user_key)
            .arg(cutoff(now))
            .arg(millis(CLOCK_MARGIN));
        match add {
            Some((id, ttl)) => cmd.arg(id.to_hex()).arg(deadline_score(now, ttl)),
            None => cmd.arg("").arg(""),
        };
        for id in remove {
            cmd.arg(id.to_hex());
        }
        cmd
    }

    /// [`SessionStore::save_user_session`](sesi_core::store::SessionStore::save_user_session):
    /// with `update_only`, the index then `SET … XX`; else the session then the index.
    pub(crate) fn index_and_save(
        &self,
        id: SessionId,
        data: Vec<u8>,
        ttl: Option<Duration>,
        user: &str,
        update_only: bool,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        let index = Self::index_cmd(&self.user_key(user), now_ms(), Some((id, ttl)), &[]);
        let mut set = self.set_cmd(id, data, ttl);
        let steps = if update_only {
            // Nil when the session is gone: nothing saved, and not an error.
            set.arg("XX");
            [index, set]
        } else {
            [set, index]
        };
        // In a cluster the two are on different slots: `Backend::pipeline` sends them in
        // order, the second only after the first succeeded.
        let mut pipe = redis::pipe();
        for step in steps {
            pipe.add_command(step);
        }
        Box::pin(async move {
            self.backend
                .pipeline::<((), ())>(&pipe)
                .await
                .map(drop)
                .map_err(unavailable)
        })
    }

    /// Removes `ids` from the index at `key`, and sets its expiry from what is left (nothing
    /// to send when `ids` is empty).
    async fn unindex(&self, key: &str, ids: &[SessionId]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let cmd = Self::index_cmd(key, now_ms(), None, ids);
        self.backend.query::<()>(&cmd).await.map_err(unavailable)
    }

    /// [`SessionStore::user_sessions`](sesi_core::store::SessionStore::user_sessions): the
    /// indexed ids not long past their deadline, then their data. Ids whose session is gone
    /// are left out and removed from the index (a gone session never comes back, see the
    /// module docs): without that, ids of sessions without a time-to-live that ended by a
    /// plain delete (a logout) would stay forever.
    pub(crate) fn indexed_sessions(
        &self,
        user: &str,
    ) -> BoxFuture<'_, Result<Vec<StoredSession>, StoreError>> {
        let key = self.user_key(user);
        Box::pin(async move {
            let mut range = redis::cmd("ZRANGEBYSCORE");
            range
                .arg(&key)
                .arg(format!("({}", cutoff(now_ms())))
                .arg("+inf");
            let members: Vec<Vec<u8>> = self.backend.query(&range).await.map_err(unavailable)?;
            let ids = ids(&members);
            let gets = self.per_session("GET", &ids);
            let data: Vec<Option<Vec<u8>>> = self.backend.each(&gets).await.map_err(unavailable)?;
            let mut live = Vec::with_capacity(ids.len());
            let mut gone = Vec::new();
            for (id, data) in ids.into_iter().zip(data) {
                match data {
                    Some(data) => live.push(StoredSession { id, data }),
                    None => gone.push(id),
                }
            }
            self.unindex(&key, &gone).await?;
            Ok(live)
        })
    }

    /// [`SessionStore::delete_user_sessions`](sesi_core::store::SessionStore::delete_user_sessions):
    /// every indexed id (past its deadline or not) but `keep`, each deleted on its own slot,
    /// then all of them removed from the index; the count is of the keys that existed.
    pub(crate) fn delete_indexed(
        &self,
        user: &str,
        keep: Option<SessionId>,
    ) -> BoxFuture<'_, Result<usize, StoreError>> {
        let key = self.user_key(user);
        Box::pin(async move {
            let mut range = redis::cmd("ZRANGE");
            range.arg(&key).arg(0).arg(-1);
            let members: Vec<Vec<u8>> = self.backend.query(&range).await.map_err(unavailable)?;
            let mut ids = ids(&members);
            ids.retain(|id| Some(*id) != keep);
            let dels = self.per_session("DEL", &ids);
            let deleted: Vec<i64> = self.backend.each(&dels).await.map_err(unavailable)?;
            self.unindex(&key, &ids).await?;
            Ok(deleted.into_iter().filter(|&n| n > 0).count())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_is_now_plus_the_ttl_in_ms_or_inf() {
        assert_eq!(deadline_score(1_000, Some(Duration::from_secs(2))), "3000");
        assert_eq!(deadline_score(1_000, None), "+inf");
        assert_eq!(
            deadline_score(1_000, Some(Duration::MAX)),
            "+inf",
            "too far to be an expiry"
        );
        assert_eq!(cutoff(100_000), 40_000);
        assert_eq!(cutoff(10), 0, "no underflow");
    }

    #[test]
    fn members_that_are_not_session_ids_are_ignored() {
        let id = SessionId::generate();
        let members = [
            id.to_hex().into_bytes(),
            b"not an id".to_vec(),
            vec![0xff; 32],
        ];
        assert_eq!(ids(&members), vec![id]);
    }
}
