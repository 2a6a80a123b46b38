//! Hashing and indexing scheduler job ids.
//!
//! The ids come from the scheduler, not from an adversary, so a fast
//! multiplicative hash replaces SipHash (which took a fifth of the time of
//! parsing a large queue), and [`IdIndex`] finds an id's entry without keeping
//! a second copy of the id (an allocation per line saved).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Maps keyed by scheduler job ids.
pub(crate) type IdMap<V> = HashMap<String, V, BuildHasherDefault<IdHasher>>;

/// Eight bytes at a time: rotate, xor, multiply; a final mix spreads the bits
/// of short, similar ids (`1000001`, `1000002`) over the low bits a table uses.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

const K: u64 = 0x9e37_79b9_7f4a_7c15;

impl IdHasher {
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        // The length first: "1" and "1\0" pad to the same last word.
        self.mix(bytes.len() as u64);
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.mix(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(w));
        }
    }

    fn write_u8(&mut self, b: u8) {
        self.mix(u64::from(b));
    }

    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^ (h >> 33)
    }
}

fn hash(id: &str) -> u64 {
    let mut h = IdHasher::default();
    h.write(id.as_bytes());
    h.finish()
}

/// A free slot.
const EMPTY: u32 = u32::MAX;

/// Open addressing with linear probing over positions in a list of ids held
/// elsewhere. A slot is 8 bytes, the position and the high half of the id's
/// hash, so probing rarely touches the ids themselves and a large table stays
/// small in cache. At most half full. Positions past `u32::MAX - 1` (four
/// billion ids) are not indexed: such a list could not be held in memory anyway.
#[derive(Debug, Clone, Default)]
pub(crate) struct IdIndex {
    slots: Vec<(u32, u32)>,
    len: usize,
}

fn tag(h: u64) -> u32 {
    (h >> 32) as u32
}

impl IdIndex {
    pub fn with_capacity(n: usize) -> IdIndex {
        let mut index = IdIndex::default();
        index.resize(n.saturating_mul(2));
        index
    }

    fn resize(&mut self, want: usize) {
        let size = want
            .max(8)
            .checked_next_power_of_two()
            .unwrap_or(usize::MAX / 2 + 1);
        let old = std::mem::replace(&mut self.slots, vec![(0, EMPTY); size]);
        let mask = size - 1;
        // The tag also picks an id's home slot, so growing needs no ids.
        for (t, i) in old.into_iter().filter(|s| s.1 != EMPTY) {
            let mut at = (t as usize) & mask;
            while self.slots[at].1 != EMPTY {
                at = (at + 1) & mask;
            }
            self.slots[at] = (t, i);
        }
    }

    /// Where `id` is in `ids`, if it is.
    pub fn get<'a>(&self, id: &str, ids: impl Fn(usize) -> &'a str) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        self.probe(tag(hash(id)), id, ids).ok()
    }

    /// The position of `id` (`Ok`), or the free slot where it would go (`Err`).
    fn probe<'a>(&self, t: u32, id: &str, ids: impl Fn(usize) -> &'a str) -> Result<usize, usize> {
        self.probe_with(t, |i| ids(i) == id)
    }

    /// As [`IdIndex::probe`], with `same(i)` telling whether position `i`
    /// holds the id sought (asked only when the hashes agree).
    fn probe_with(&self, t: u32, same: impl Fn(usize) -> bool) -> Result<usize, usize> {
        let mask = self.slots.len() - 1;
        let mut at = (t as usize) & mask;
        loop {
            let (st, i) = self.slots[at];
            if i == EMPTY {
                return Err(at);
            }
            if st == t && same(i as usize) {
                return Ok(i as usize);
            }
            at = (at + 1) & mask;
        }
    }

    /// Record that `id` is at position `pos`, unless it is already indexed;
    /// returns the position it has.
    pub fn insert<'a>(&mut self, id: &str, pos: usize, ids: impl Fn(usize) -> &'a str) -> usize {
        if (self.len + 1) * 2 > self.slots.len() {
            self.resize(self.slots.len() * 2);
        }
        let t = tag(hash(id));
        match self.probe(t, id, ids) {
            Ok(i) => i,
            Err(at) => {
                if let Ok(p) = u32::try_from(pos).map(|p| p.min(EMPTY - 1)) {
                    if p as usize == pos {
                        self.slots[at] = (t, p);
                        self.len += 1;
                    }
                }
                pos
            }
        }
    }

    /// Index positions `from..to` of `ids` all at once. Returns the
    /// positions whose id was indexed already (or came earlier among them),
    /// in no particular order, each with the position that id has; those
    /// are left out of the index.
    ///
    /// Inserted one by one, each id of a table far bigger than the cache costs
    /// a miss, and in a virtual machine a walk of the page tables as well: for
    /// a million lines that was a third of the time of parsing them. Sorted
    /// first by home slot (one counting pass over its top bits), the inserts
    /// sweep the table from one end to the other instead. The sort is stable,
    /// so of two equal ids the earlier is indexed.
    pub fn insert_new<'a>(
        &mut self,
        from: usize,
        to: usize,
        ids: impl Fn(usize) -> &'a str,
    ) -> Vec<(usize, usize)> {
        // As in `insert`, positions from `EMPTY` on are not indexed.
        let to = to.min(EMPTY as usize);
        let mut repeated = Vec::new();
        if from >= to {
            return repeated;
        }
        let want = (self.len + (to - from)).saturating_mul(2);
        if want > self.slots.len() {
            self.resize(want);
        }
        let size = self.slots.len();
        let (mask, bits) = (size - 1, size.trailing_zeros());
        // Positions below `to` fit in u32 (see above).
        let positions = (from..to).map(|pos| pos as u32);
        let mut add = |index: &mut IdIndex, t: u32, pos: u32| {
            if let Some(had) = index.insert_fresh(t, pos, &ids) {
                repeated.push((pos as usize, had));
            }
        };
        if bits <= SORT_ABOVE_BITS {
            // A table this small stays in cache: no need to sort.
            for pos in positions {
                add(self, tag(hash(ids(pos as usize))), pos);
            }
            return repeated;
        }
        let shift = bits - BUCKET_BITS;
        let bucket = |t: u32| ((t as usize) & mask) >> shift;
        let mut starts = vec![0u32; 1 << BUCKET_BITS];
        let keys: Vec<(u32, u32)> = positions
            .map(|pos| {
                let t = tag(hash(ids(pos as usize)));
                starts[bucket(t)] += 1;
                (t, pos)
            })
            .collect();
        let mut next = 0;
        for start in &mut starts {
            let count = *start;
            *start = next;
            next += count;
        }
        let mut sorted = vec![(0, 0); keys.len()];
        for (t, pos) in keys {
            let b = bucket(t);
            sorted[starts[b] as usize] = (t, pos);
            starts[b] += 1;
        }
        for (t, pos) in sorted {
            add(self, t, pos);
        }
        repeated
    }

    /// Put `pos` (hash tag `t`) in its free slot; if its id is indexed
    /// already, leave it out and return the position the id has.
    fn insert_fresh<'a>(
        &mut self,
        t: u32,
        pos: u32,
        ids: &impl Fn(usize) -> &'a str,
    ) -> Option<usize> {
        // The id itself is read only when a tag agrees: sorted by slot, the
        // positions come in no order, and each id read would be a miss.
        match self.probe_with(t, |i| ids(i) == ids(pos as usize)) {
            Ok(had) => Some(had),
            Err(at) => {
                self.slots[at] = (t, pos);
                self.len += 1;
                None
            }
        }
    }

    /// Renumber the indexed positions from `from` on: `p` becomes `to[p - from]`.
    pub fn renumber(&mut self, from: usize, to: &[u32]) {
        for slot in &mut self.slots {
            let p = slot.1 as usize;
            if slot.1 != EMPTY && p >= from {
                slot.1 = to[p - from];
            }
        }
    }
}

/// [`IdIndex::insert_new`] sorts only for tables of more than 2^this slots
/// (256 KiB): smaller ones stay in cache.
const SORT_ABOVE_BITS: u32 = 15;
/// Its counting sort's buckets: 2^this, so that one bucket's slots span a few
/// pages even of the largest tables.
const BUCKET_BITS: u32 = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_it_indexed_and_grows() {
        let ids: Vec<String> = (0..10_000).map(|i| format!("{}", 1_000_000 + i)).collect();
        let mut index = IdIndex::default();
        assert_eq!(index.get("x", |i| ids[i].as_str()), None);
        for (pos, id) in ids.iter().enumerate() {
            assert_eq!(index.insert(id, pos, |i| ids[i].as_str()), pos);
        }
        assert_eq!(
            index.insert(&ids[17], 99_999, |i| ids[i].as_str()),
            17,
            "kept"
        );
        for (pos, id) in ids.iter().enumerate() {
            assert_eq!(index.get(id, |i| ids[i].as_str()), Some(pos));
        }
        assert_eq!(index.get("999", |i| ids[i].as_str()), None);
        assert!(index.slots.len() >= 2 * ids.len());
    }

    #[test]
    fn similar_ids_spread() {
        let mut buckets = [0u32; 64];
        for i in 0..64_000 {
            buckets[(tag(hash(&format!("{}", 5_000_000 + i))) & 63) as usize] += 1;
        }
        assert!(
            buckets.iter().all(|&n| (700..1300).contains(&n)),
            "{buckets:?}"
        );
        assert_ne!(hash("1"), hash("1\0"));
    }
}
