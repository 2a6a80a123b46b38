//! Array specifications as molq's `JobScheduling.array_spec` is written,
//! whatever the scheduler: a comma list of `n`, `n-m` or `n-m:step` (`1-4`,
//! `1,3,5-7`, `0-15:4`), optionally throttled by `%N` (at most N tasks at
//! once). The one place their grammar is checked: [`parse`] reads one,
//! [`directive`] says what each scheduler's array option takes of it.

/// One part of an array specification: `first`, `first-last` or `first-last:step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub first: u64,
    pub last: u64,
    pub step: u64,
}

/// A parsed array specification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArraySpec<'a> {
    /// The index list as written (before any `%`), trimmed.
    pub indices: &'a str,
    pub ranges: Vec<Range>,
    /// `%N`: at most N tasks at once.
    pub throttle: Option<u64>,
}

/// Read `spec`; None if it is not an index list (optionally `%N`).
pub fn parse(spec: &str) -> Option<ArraySpec<'_>> {
    let (indices, throttle) = match spec.split_once('%') {
        Some((i, t)) => (i.trim(), Some(number(t)?)),
        None => (spec.trim(), None),
    };
    if indices.is_empty() || throttle == Some(0) {
        return None;
    }
    let ranges = indices.split(',').map(range).collect::<Option<Vec<_>>>()?;
    Some(ArraySpec {
        indices,
        ranges,
        throttle,
    })
}

/// `n`, `n-m` or `n-m:step` (step > 0, m >= n).
fn range(part: &str) -> Option<Range> {
    let (span, step) = match part.split_once(':') {
        Some((r, s)) => (r, number(s).filter(|s| *s > 0)?),
        None => (part, 1),
    };
    let (first, last) = match span.split_once('-') {
        Some((a, b)) => (number(a)?, number(b)?),
        None => {
            let n = number(span)?;
            (n, n)
        }
    };
    (last >= first).then_some(Range { first, last, step })
}

/// Digits only (around blanks): no sign, no `+`.
fn number(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The number of distinct task ids `spec` names, or None if it cannot be read
/// (then no count is enforced).
pub fn task_count(spec: &str) -> Option<u64> {
    let parsed = parse(spec)?;
    let mut ids = std::collections::BTreeSet::new();
    for r in parsed.ranges {
        if r.last - r.first > 10_000_000 {
            return None;
        }
        ids.extend((r.first..=r.last).step_by(usize::try_from(r.step).ok()?));
    }
    u64::try_from(ids.len()).ok()
}

/// The most tasks one array may have where molq itself runs them (the local scheduler).
pub const MAX_TASKS: usize = 100_000;

/// The task ids `spec` names, ascending and each once, and its throttle: what
/// the local scheduler runs. Err says why it cannot (not an index list, or
/// more than [`MAX_TASKS`] tasks).
pub fn task_ids(spec: &str) -> Result<(Vec<u64>, Option<u64>), String> {
    let parsed = parse(spec).ok_or_else(|| {
        format!(
            "array_spec {spec:?}: expected index lists like 1-10, 0-15:4, 1,3,5-7 (optionally %N)"
        )
    })?;
    let mut ids = std::collections::BTreeSet::new();
    for r in &parsed.ranges {
        let mut id = r.first;
        while id <= r.last {
            ids.insert(id);
            if ids.len() > MAX_TASKS {
                return Err(format!(
                    "array_spec {spec:?} names more than {MAX_TASKS} tasks"
                ));
            }
            id = match id.checked_add(r.step) {
                Some(next) => next,
                None => break,
            };
        }
    }
    Ok((ids.into_iter().collect(), parsed.throttle))
}

/// The array syntaxes of the schedulers molq drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `sbatch --array=0-9:2%4` or `1,3,5`.
    Slurm,
    /// PBS Pro's `qsub -J X-Y[:step][%N]`: one range, no list.
    PbsPro,
    /// Torque's `qsub -t 1,3,5-7%N`.
    Torque,
    /// LSF's `bsub -J "name[1-10:2,15]%4"`.
    Lsf,
    /// Grid Engine's `qsub -t n[-m[:step]]`, one range; the throttle goes to `-tc N`.
    Sge,
}

impl Dialect {
    /// The dialect named `name`: "slurm", "pbspro", "torque", "lsf" or "sge".
    pub fn parse(name: &str) -> Option<Dialect> {
        Some(match name {
            "slurm" => Dialect::Slurm,
            "pbspro" => Dialect::PbsPro,
            "torque" => Dialect::Torque,
            "lsf" => Dialect::Lsf,
            "sge" => Dialect::Sge,
            _ => return None,
        })
    }
}

/// What a scheduler's array option takes of a specification: the index
/// list as written, and the throttle, which each scheduler places its own way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub indices: String,
    pub throttle: Option<u64>,
}

/// The parts of `spec` for `dialect`'s array option, or why it cannot take it.
pub fn directive(spec: &str, dialect: Dialect) -> Result<Directive, String> {
    let refusal = || match dialect {
        Dialect::PbsPro => format!("PBS Pro job arrays are ranges X-Y[:step][%max], not {spec:?}"),
        Dialect::Sge => {
            format!("Grid Engine task arrays are n[-m[:step]] (optionally %N), not {spec:?}")
        }
        Dialect::Lsf => format!(
            "LSF job arrays are index lists like 1-10, 1-9:2, 1,3,5-7 (optionally %N), not {spec:?}"
        ),
        Dialect::Slurm | Dialect::Torque => {
            let name = if dialect == Dialect::Slurm {
                "Slurm"
            } else {
                "Torque"
            };
            format!(
                "{name} job arrays are index lists like 0-9, 0-9:2, 1,3,5-7 (optionally %N), not {spec:?}"
            )
        }
    };
    let parsed = parse(spec).ok_or_else(refusal)?;
    let one_range = parsed.ranges.len() == 1;
    let ok = match dialect {
        // a range with its '-': PBS Pro refuses a single index
        Dialect::PbsPro => one_range && parsed.indices.contains('-'),
        Dialect::Sge => one_range,
        Dialect::Slurm | Dialect::Torque | Dialect::Lsf => true,
    };
    if !ok {
        return Err(refusal());
    }
    Ok(Directive {
        indices: parsed.indices.to_owned(),
        throttle: parsed.throttle,
    })
}

#[cfg(test)]
mod tests {
    use super::{directive, task_count, task_ids, Dialect, Directive};

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
            ("1-4%x", None),
            ("+1-4", None),
        ] {
            assert_eq!(task_count(spec), n, "{spec}");
        }
    }

    fn ok(indices: &str, throttle: Option<u64>) -> Result<Directive, String> {
        Ok(Directive {
            indices: indices.into(),
            throttle,
        })
    }

    #[test]
    fn what_each_scheduler_takes() {
        use Dialect::*;
        for (spec, dialect, want) in [
            ("0-9:2%4", Slurm, ok("0-9:2", Some(4))),
            ("1,3,5", Slurm, ok("1,3,5", None)),
            ("0-9:2%4", PbsPro, ok("0-9:2", Some(4))),
            ("1-10%2", PbsPro, ok("1-10", Some(2))),
            ("1,3,5%2", Torque, ok("1,3,5", Some(2))),
            ("1-10:2%4", Lsf, ok("1-10:2", Some(4))),
            ("1,3,5-7", Lsf, ok("1,3,5-7", None)),
            ("1-10:2%3", Sge, ok("1-10:2", Some(3))),
            ("5", Sge, ok("5", None)),
        ] {
            assert_eq!(directive(spec, dialect), want, "{spec} {dialect:?}");
        }
        for (spec, dialect, words) in [
            (
                "1,3,5",
                PbsPro,
                "PBS Pro job arrays are ranges X-Y[:step][%max], not \"1,3,5\"",
            ),
            ("5", PbsPro, "ranges"),
            (
                "1,3",
                Sge,
                "Grid Engine task arrays are n[-m[:step]] (optionally %N)",
            ),
            ("a-b", Lsf, "LSF job arrays are index lists"),
            ("1-4%", Slurm, "Slurm job arrays are index lists"),
            ("1-4%0", Torque, "Torque job arrays"),
            ("9-1", Slurm, "not \"9-1\""),
        ] {
            let err = directive(spec, dialect).unwrap_err();
            assert!(err.contains(words), "{spec} {dialect:?}: {err}");
        }
        assert_eq!(Dialect::parse("pbspro"), Some(PbsPro));
        assert_eq!(Dialect::parse("pbs"), None);
    }

    #[test]
    fn task_ids_are_each_task_once_in_order() {
        assert_eq!(task_ids("5,1-3,2").unwrap(), (vec![1, 2, 3, 5], None));
        assert_eq!(task_ids("0-15:4%2").unwrap(), (vec![0, 4, 8, 12], Some(2)));
        assert!(task_ids("1-x").unwrap_err().contains("index lists"));
        assert!(task_ids("0-200000")
            .unwrap_err()
            .contains("more than 100000"));
        let top = u64::MAX;
        assert_eq!(task_ids(&format!("{top}")).unwrap().0, vec![top]);
    }
}
