//! An LRU cache of records. Records are immutable once created, but they can be deleted: the
//! provider evicts what it deletes, and where other servers share the database it confirms a hit
//! still exists before serving it (`provider/mod.rs`). Keys are hashed, so a lookup allocates
//! nothing. The provider caches what single registrations and reads return, not batches, which
//! would flush it.

use std::{num::NonZeroUsize, sync::Mutex};

use docstokg_catalog::DocumentRecord;
use lru::LruCache;

use crate::metering;

/// A key's hash: lookups allocate nothing, and a hit is checked against the record's own fields,
/// so two keys with one hash only cost a miss.
type Key = u64;

/// foldhash, seeded once per process: a collision only costs a miss (see [`Key`]), so the cache
/// needs no DoS-resistant hash, and SipHash was a visible share of a registration's time.
fn key_hash(artifact_id: &str, source_url: &str, resolver: &str) -> Key {
    use std::hash::BuildHasher;
    static SEED: std::sync::OnceLock<foldhash::quality::RandomState> = std::sync::OnceLock::new();
    SEED.get_or_init(Default::default)
        .hash_one((artifact_id, source_url, resolver))
}

/// Records by id and ids by key (artifact_id, source_url, resolver), least recently used evicted.
pub struct RecordCache {
    inner: Option<Mutex<Inner>>,
}

struct Inner {
    by_id: LruCache<i64, DocumentRecord>,
    by_key: LruCache<Key, i64>,
}

impl RecordCache {
    /// A cache of up to `capacity` records; 0 disables it.
    pub fn new(capacity: usize) -> Self {
        let inner = NonZeroUsize::new(capacity).map(|capacity| {
            Mutex::new(Inner {
                by_id: LruCache::new(capacity),
                by_key: LruCache::new(capacity),
            })
        });
        Self { inner }
    }

    /// The capacity (0 when disabled).
    pub fn capacity(&self) -> usize {
        self.inner
            .as_ref()
            .map_or(0, |inner| lock(inner).by_id.cap().get())
    }

    /// The record with `id`, if cached.
    pub fn get(&self, id: i64) -> Option<DocumentRecord> {
        let found = lock(self.inner.as_ref()?).by_id.get(&id).cloned();
        metering::cache_lookup(found.is_some());
        found
    }

    /// The record with this key, if cached.
    pub fn get_by_key(
        &self,
        artifact_id: &str,
        source_url: &str,
        resolver: &str,
    ) -> Option<DocumentRecord> {
        let mut inner = lock(self.inner.as_ref()?);
        let key = key_hash(artifact_id, source_url, resolver);
        let found = inner
            .by_key
            .get(&key)
            .copied()
            .and_then(|id| inner.by_id.get(&id))
            .filter(|record| {
                record.artifact_id == artifact_id
                    && record.source_url == source_url
                    && record.resolver == resolver
            })
            .cloned();
        metering::cache_lookup(found.is_some());
        found
    }

    /// Remembers `record`.
    pub fn insert(&self, record: &DocumentRecord) {
        let Some(inner) = self.inner.as_ref() else {
            return;
        };
        let mut inner = lock(inner);
        let key = key_hash(&record.artifact_id, &record.source_url, &record.resolver);
        inner.by_key.put(key, record.id);
        inner.by_id.put(record.id, record.clone());
    }
}

impl RecordCache {
    /// Forgets the record with `id` (its key entry then leads nowhere and misses).
    pub fn evict(&self, id: i64) {
        if let Some(inner) = self.inner.as_ref() {
            lock(inner).by_id.pop(&id);
        }
    }
}

/// A poisoned lock only means another thread panicked mid-update of an LRU; the data is still a
/// valid cache of immutable records, so keep using it.
fn lock(inner: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    inner
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn record(id: i64) -> DocumentRecord {
        DocumentRecord {
            id,
            artifact_id: format!("a{id}"),
            source_url: "u".into(),
            resolver: "r".into(),
            content_type: None,
            bytes: 0,
            sha256: None,
            storage_uri: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            run_id: None,
        }
    }

    #[test]
    fn test_evicts_least_recently_used() {
        let cache = RecordCache::new(2);
        cache.insert(&record(1));
        cache.insert(&record(2));
        assert!(cache.get(1).is_some());
        cache.insert(&record(3));
        assert!(cache.get(2).is_none());
        assert_eq!(cache.get_by_key("a3", "u", "r").map(|r| r.id), Some(3));
    }

    #[test]
    fn test_evicted_records_miss_by_id_and_by_key() {
        let cache = RecordCache::new(4);
        cache.insert(&record(1));
        cache.evict(1);
        assert!(cache.get(1).is_none());
        assert!(cache.get_by_key("a1", "u", "r").is_none());
    }

    #[test]
    fn test_zero_capacity_disables() {
        let cache = RecordCache::new(0);
        cache.insert(&record(1));
        assert!(cache.get(1).is_none());
        assert_eq!(cache.capacity(), 0);
    }
}
