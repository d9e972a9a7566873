//! Rate limits and idempotency keys in Redis (or Valkey), shared by every instance of a
//! server: behind the `redis` feature.
//!
//! Each operation is one Lua script, so it is atomic on the server and costs one round
//! trip:
//! - a limit is a hash `{w: window index, n: count}` per key, windows read from the
//!   Redis server's own clock (`TIME`) so that instances with skewed clocks still share
//!   one window, and the hash expires when its window ends (the daily quota's counter
//!   expires at the reset);
//! - an idempotency key is claimed with `SET NX` and an in-flight marker that expires
//!   after [`IN_FLIGHT_FOR`] (an instance that died mid-request gives its keys up then);
//!   the answer replaces the marker and expires at the end of the key's retention.
//!   Keys are stored as SHA-256 of (scope, key): bounded, and no caller's key in clear.
//!
//! Redis's memory is bounded by these expiries; an operator still sets `maxmemory`
//! with a `volatile-*` policy, as for any cache.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, Script};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::idempotency::{IdempotencyStore, Reservation, Stored};
use crate::limits::{Hit, RateLimiter};
use crate::store::{StoreFuture, StoreUnavailable};

/// How long a claimed key stays claimed without an answer: past it, another request
/// with the key runs (the claimant is taken to have died).
pub(crate) const IN_FLIGHT_FOR: Duration = Duration::from_secs(30);
/// How often a request waiting on another instance's claim looks at it.
const POLL: Duration = Duration::from_millis(20);
/// Per-command and per-connection-attempt timeouts: well inside the router's own
/// bound, so a dead Redis is reported as such rather than as a timeout.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);

const LIMIT_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local len = tonumber(ARGV[2])
local index = tostring(math.floor(now / len))
local wait = (math.floor(now / len) + 1) * len - now
local n = 0
if redis.call('HGET', KEYS[1], 'w') == index then
  n = tonumber(redis.call('HGET', KEYS[1], 'n'))
end
if n >= limit then
  return {-1, wait}
end
n = n + 1
redis.call('HSET', KEYS[1], 'w', index, 'n', n)
redis.call('PEXPIRE', KEYS[1], wait)
return {n, wait}
";

/// Claims KEYS[1] with the in-flight marker ARGV[1] for ARGV[2] ms; nil when claimed,
/// else what holds the key.
const CLAIM_SCRIPT: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return false
end
return redis.call('GET', KEYS[1])
";

/// Replaces the in-flight marker `R<fingerprint>` of KEYS[1] with its answer
/// `D<fingerprint>` .. ARGV[1] until ARGV[2] (ms since the epoch), or releases it when
/// ARGV[1] is empty; a key no longer in flight (expired, answered) is left alone.
const ANSWER_SCRIPT: &str = r"
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, 1) ~= 'R' then
  return 0
end
if ARGV[1] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], 'D' .. string.sub(v, 2) .. ARGV[1], 'PXAT', ARGV[2])
end
return 1
";

/// Rate limits and idempotency keys in one Redis database, shared by every instance
/// that connects to it with the same prefix.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
    limit: Script,
    claim: Script,
    answer: Script,
}

impl std::fmt::Debug for RedisStore {
    // The URL may hold a password: it is not kept, and nothing else here is secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

fn unavailable(e: &RedisError) -> StoreUnavailable {
    StoreUnavailable(format!("Redis: {e}"))
}

impl RedisStore {
    /// Connects to `url` (`redis://host:port/db`, `rediss://` for TLS), keys under the
    /// prefix `prefix:`. Fails when the server cannot be reached now; once connected, a
    /// lost connection is re-established on the next call.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, StoreUnavailable> {
        let client = redis::Client::open(url).map_err(|e| unavailable(&e))?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(1);
        let conn = ConnectionManager::new_with_config(client, config).await.map_err(|e| unavailable(&e))?;
        Ok(RedisStore {
            conn,
            prefix: prefix.to_owned(),
            limit: Script::new(LIMIT_SCRIPT),
            claim: Script::new(CLAIM_SCRIPT),
            answer: Script::new(ANSWER_SCRIPT),
        })
    }

    fn record_key(&self, scope: &str, key: &str) -> String {
        let mut hash = Sha256::new();
        hash.update(scope.as_bytes());
        hash.update([0]);
        hash.update(key.as_bytes());
        format!("{}:idem:{}", self.prefix, hex(&hash.finalize()))
    }

    /// A channel that gets the answer of a key another request (on any instance) is
    /// running, or closes when that request gave the key up or Redis cannot be read.
    fn watch(&self, record: String, marker: String) -> watch::Receiver<Option<Stored>> {
        let (tx, rx) = watch::channel(None);
        let mut conn = self.conn.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(POLL).await;
                if tx.is_closed() {
                    return;
                }
                let found: Result<Option<String>, _> = redis::cmd("GET").arg(&record).query_async(&mut conn).await;
                match found {
                    Ok(Some(v)) if v == marker => {}
                    Ok(Some(v)) => {
                        if let Record::Done(_, stored) = Record::parse(&v) {
                            let _ = tx.send(Some(stored));
                        }
                        return;
                    }
                    // Released, expired or unreadable: the waiter claims again (and
                    // meets the failure itself, if Redis is down).
                    _ => return,
                }
            }
        });
        rx
    }
}

/// What an idempotency key's value says.
enum Record {
    /// `R<fingerprint>`: a request is running with it.
    Running(String),
    /// `D<fingerprint><status> <body>`: answered.
    Done(String, Stored),
    Unreadable,
}

impl Record {
    fn parse(value: &str) -> Record {
        let fp = |v: &str| v.get(1..65).map(str::to_owned);
        match value.as_bytes().first() {
            Some(b'R') => fp(value).map_or(Record::Unreadable, Record::Running),
            Some(b'D') => {
                let answer = value.get(65..).and_then(|rest| rest.split_once(' ')).and_then(|(status, body)| {
                    Some(Stored { status: status.parse().ok()?, body: serde_json::from_str::<Value>(body).ok()? })
                });
                match (fp(value), answer) {
                    (Some(fp), Some(stored)) => Record::Done(fp, stored),
                    _ => Record::Unreadable,
                }
            }
            _ => Record::Unreadable,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RateLimiter for RedisStore {
    /// Counts in the window of Redis's clock: `now` is not used, so that every
    /// instance counts in the same window.
    fn hit<'a>(&'a self, key: &'a str, limit: u32, window: Duration, _now: SystemTime) -> StoreFuture<'a, Hit> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let (count, wait): (i64, u64) = self
                .limit
                .key(format!("{}:rl:{key}", self.prefix))
                .arg(limit)
                .arg(millis(window))
                .invoke_async(&mut conn)
                .await
                .map_err(|e| unavailable(&e))?;
            let wait = Duration::from_millis(wait);
            Ok(u32::try_from(count).map_err(|_| wait))
        })
    }
}

impl IdempotencyStore for RedisStore {
    fn reserve<'a>(
        &'a self,
        scope: &'a str,
        key: &'a str,
        fingerprint: [u8; 32],
        _now: SystemTime,
    ) -> StoreFuture<'a, Reservation> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let (record, fp) = (self.record_key(scope, key), hex(&fingerprint));
            let marker = format!("R{fp}");
            let held: Option<String> = self
                .claim
                .key(&record)
                .arg(&marker)
                .arg(millis(IN_FLIGHT_FOR))
                .invoke_async(&mut conn)
                .await
                .map_err(|e| unavailable(&e))?;
            Ok(match held.as_deref().map(Record::parse) {
                None => Reservation::New,
                Some(Record::Done(held, stored)) if held == fp => Reservation::Done(stored),
                Some(Record::Running(held)) if held == fp => Reservation::Pending(self.watch(record, marker)),
                Some(Record::Done(..) | Record::Running(_)) => Reservation::Conflict,
                Some(Record::Unreadable) => {
                    return Err(StoreUnavailable(format!("Redis holds an unreadable idempotency record at {record}")));
                }
            })
        })
    }

    fn complete<'a>(
        &'a self,
        scope: &'a str,
        key: &'a str,
        answer: Option<Stored>,
        keep_until: SystemTime,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let value = answer.map(|stored| format!("{} {}", stored.status, stored.body)).unwrap_or_default();
            let until = millis(keep_until.duration_since(UNIX_EPOCH).unwrap_or_default());
            let _: i64 = self
                .answer
                .key(self.record_key(scope, key))
                .arg(value)
                .arg(until)
                .invoke_async(&mut conn)
                .await
                .map_err(|e| unavailable(&e))?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_as_written() {
        let fp = "a".repeat(64);
        assert!(matches!(Record::parse(&format!("R{fp}")), Record::Running(f) if f == fp));
        let done = Record::parse(&format!("D{fp}201 {{\"id\":1}}"));
        assert!(matches!(done, Record::Done(f, s) if f == fp && s.status == 201 && s.body["id"] == 1));
        assert!(matches!(Record::parse("R123"), Record::Unreadable));
        assert!(matches!(Record::parse(&format!("D{fp}x {{}}")), Record::Unreadable));
        assert!(matches!(Record::parse(""), Record::Unreadable));
    }
}
