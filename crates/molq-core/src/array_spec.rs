//! How many tasks an array specification asks for: `1-4`, `1,3,5-7`,
//! `0-15:4` (a step), each optionally throttled by `%N` (as molq's
//! `JobScheduling.array_spec` is written, whatever the scheduler).

/// The number of distinct task ids `spec` names, or None if it cannot be read
/// (then no count is enforced).
pub fn task_count(spec: &str) -> Option<u64> {
    let spec = spec.split('%').next()?.trim();
    if spec.is_empty() {
        return None;
    }
    let mut ids = std::collections::BTreeSet::new();
    for part in spec.split(',') {
        let (range, step) = match part.split_once(':') {
            Some((r, s)) => (r, s.trim().parse::<u64>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (lo, hi) = match range.split_once('-') {
            Some((a, b)) => (a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?),
            None => {
                let n = range.trim().parse::<u64>().ok()?;
                (n, n)
            }
        };
        if hi < lo || hi - lo > 10_000_000 {
            return None;
        }
        ids.extend((lo..=hi).step_by(usize::try_from(step).ok()?));
    }
    u64::try_from(ids.len()).ok()
}

#[cfg(test)]
mod tests {
    use super::task_count;

    #[test]
    fn counts() {
        for (spec, n) in [
            ("1-4", Some(4)),
            ("0-15:4", Some(4)),
            ("1,3,5-7", Some(5)),
            ("1-10%2", Some(10)),
            ("7", Some(7 - 6)),
            ("1-3,2-4", Some(4)),
            ("", None),
            ("a-b", None),
            ("5-1", None),
            ("1-4:0", None),
        ] {
            assert_eq!(task_count(spec), n, "{spec}");
        }
    }
}
