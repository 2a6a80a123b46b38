//! Interned user and queue names: a listing of 100,000 jobs repeats a handful
//! of them, so each is allocated once and shared.

use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Default)]
pub(crate) struct Names {
    seen: HashMap<String, Arc<str>>,
}

impl Names {
    /// The shared copy of `name`; `None` for an empty or `-` (none) field.
    pub fn get(&mut self, name: &str) -> Option<Arc<str>> {
        let name = name.trim();
        if name.is_empty() || name == "-" {
            return None;
        }
        if let Some(shared) = self.seen.get(name) {
            return Some(Arc::clone(shared));
        }
        let shared: Arc<str> = Arc::from(name);
        self.seen.insert(name.to_owned(), Arc::clone(&shared));
        Some(shared)
    }
}
