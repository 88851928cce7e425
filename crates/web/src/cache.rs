//! A small time-bounded cache for hot, rarely-changing reads (token -> user, procedure code ->
//! published version). Entries expire after a fixed TTL, so a change in the store is seen within
//! that time; the map is cleared when it grows past its cap, which bounds memory.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// A TTL cache.
pub struct TtlCache<K, V> {
    ttl: Duration,
    cap: usize,
    map: RwLock<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    /// A cache whose entries live `ttl` and which holds at most `cap` entries.
    pub fn new(ttl: Duration, cap: usize) -> Self {
        TtlCache {
            ttl,
            cap,
            map: RwLock::new(HashMap::new()),
        }
    }

    /// The cached value, if fresh.
    pub fn get(&self, k: &K) -> Option<V> {
        let map = self.map.read().ok()?;
        map.get(k)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    /// Stores a value.
    pub fn put(&self, k: K, v: V) {
        if let Ok(mut map) = self.map.write() {
            if map.len() >= self.cap {
                map.retain(|_, (at, _)| at.elapsed() < self.ttl);
                if map.len() >= self.cap {
                    map.clear();
                }
            }
            map.insert(k, (Instant::now(), v));
        }
    }

    /// Forgets every value `f` picks (e.g. all sessions of one user after a password reset).
    pub fn remove_where(&self, f: impl Fn(&V) -> bool) {
        if let Ok(mut map) = self.map.write() {
            map.retain(|_, (_, v)| !f(v));
        }
    }

    /// Forgets a value (after a change made here, so this node sees it at once).
    pub fn remove(&self, k: &K) {
        if let Ok(mut map) = self.map.write() {
            map.remove(k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_the_cap_holds() {
        let c = TtlCache::new(Duration::from_millis(30), 3);
        c.put(1, "a");
        assert_eq!(c.get(&1), Some("a"));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(c.get(&1), None);
        for i in 0..10 {
            c.put(i, "x");
        }
        assert!(c.map.read().unwrap().len() <= 3);
        assert_eq!(c.get(&9), Some("x"));
        c.put(20, "y");
        c.remove_where(|v| *v == "x");
        assert_eq!(c.get(&9), None);
        assert_eq!(c.get(&20), Some("y"));
    }
}
