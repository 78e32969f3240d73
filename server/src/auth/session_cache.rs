//! A bounded, short-lived in-memory cache in front of the Postgres session store, so that a page
//! view reads its session from memory instead of Postgres. Writes go to both (tower-sessions'
//! `CachingSessionStore`); a cached entry is trusted for [`SessionCache::ttl`] only, so a sign-out
//! on another replica (which deletes the row) takes effect here within that time; a sign-out on
//! this replica removes the entry at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Result, SessionStore};

/// Clones share their entries (the session layer and the state hold the same cache).
#[derive(Clone, Debug)]
pub struct SessionCache {
    entries: Arc<Mutex<HashMap<Id, (Record, Instant)>>>,
    ttl: Duration,
    capacity: usize,
}

impl SessionCache {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        SessionCache {
            entries: Arc::default(),
            ttl,
            capacity: capacity.max(1),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn put(&self, record: &Record) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= self.capacity && !entries.contains_key(&record.id) {
            // Full: drop what has expired; if that frees nothing, the entry cached longest ago.
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= self.capacity
                && let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, (_, at))| *at)
                    .map(|(id, _)| *id)
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(record.id, (record.clone(), Instant::now()));
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl SessionStore for SessionCache {
    async fn create(&self, record: &mut Record) -> Result<()> {
        self.put(record);
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.put(record);
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let Ok(mut entries) = self.entries.lock() else {
            return Ok(None);
        };
        let fresh = entries.get(id).is_some_and(|(record, at)| {
            at.elapsed() < self.ttl && record.expiry_date > OffsetDateTime::now_utc()
        });
        if fresh {
            Ok(entries.get(id).map(|(record, _)| record.clone()))
        } else {
            // Missing, or too old to trust: the caller reads Postgres and caches that.
            entries.remove(id);
            Ok(None)
        }
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(id);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: i128, expires_in: time::Duration) -> Record {
        Record {
            id: Id(id),
            data: Default::default(),
            expiry_date: OffsetDateTime::now_utc() + expires_in,
        }
    }

    #[tokio::test]
    async fn entries_are_trusted_for_the_ttl_and_only_until_the_session_expires() {
        let cache = SessionCache::new(Duration::from_millis(200), 10);
        let live = record(1, time::Duration::hours(1));
        let ending = record(2, time::Duration::milliseconds(-1));
        cache.save(&live).await.unwrap();
        cache.save(&ending).await.unwrap();
        assert_eq!(cache.load(&Id(1)).await.unwrap(), Some(live.clone()));
        assert_eq!(
            cache.load(&Id(2)).await.unwrap(),
            None,
            "an expired session is not served"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(
            cache.load(&Id(1)).await.unwrap(),
            None,
            "older than the ttl: read again"
        );
        cache.save(&live).await.unwrap();
        cache.delete(&Id(1)).await.unwrap();
        assert_eq!(cache.load(&Id(1)).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_full_cache_drops_the_oldest_entry() {
        let cache = SessionCache::new(Duration::from_secs(60), 3);
        for id in 1..=4 {
            cache
                .save(&record(id, time::Duration::hours(1)))
                .await
                .unwrap();
        }
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.load(&Id(1)).await.unwrap(), None);
        assert!(cache.load(&Id(4)).await.unwrap().is_some());
    }
}
