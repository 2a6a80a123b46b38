//! How the local scheduler's limit kills read in a failure reason: a time
//! limit as a clock (`1:30:00`), memory in binary units (`1.2 GiB`).

/// Why a job stopped at its time limit of `seconds`.
pub(crate) fn time_limit_reason(seconds: u64) -> String {
    format!(
        "the job exceeded its time limit of {} and was stopped",
        clock(seconds)
    )
}

/// Why a job was killed at its memory limit; both sizes in KiB. The peak is
/// what the scheduler last measured, which may lag the kill.
pub(crate) fn memory_limit_reason(limit_kib: u64, peak_kib: u64) -> String {
    if peak_kib <= limit_kib {
        return format!(
            "the job reached its memory limit of {} and was killed",
            binary_size(limit_kib)
        );
    }
    let (mut peak, mut limit) = (binary_size(peak_kib), binary_size(limit_kib));
    if peak == limit {
        // One decimal hides a small overshoot: the exact figures show it.
        (peak, limit) = (format!("{peak_kib} KiB"), format!("{limit_kib} KiB"));
    }
    format!("the job used {peak} of memory, over its limit of {limit}, and was killed")
}

/// `45 s` under a minute, else `H:MM:SS` (`0:01:30`, `1:30:00`, `26:00:00`).
fn clock(seconds: u64) -> String {
    if seconds < 60 {
        return format!("{seconds} s");
    }
    let (hours, rest) = (seconds / 3600, seconds % 3600);
    format!("{hours}:{:02}:{:02}", rest / 60, rest % 60)
}

/// `512 KiB`, `1.5 MiB`, `1.2 GiB`: whole KiB below one MiB, else one decimal
/// in the largest unit that keeps the figure under 1024.
fn binary_size(kib: u64) -> String {
    const UNITS: [&str; 4] = ["MiB", "GiB", "TiB", "PiB"];
    if kib < 1024 {
        return format!("{kib} KiB");
    }
    let mut value = kib as f64 / 1024.0;
    let mut unit = 0;
    // Compare the figure as printed, so 1023.96 MiB reads 1.0 GiB, not 1024.0 MiB.
    while (value * 10.0).round() >= 10240.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks() {
        for (seconds, shown) in [
            (0, "0 s"),
            (59, "59 s"),
            (60, "0:01:00"),
            (90, "0:01:30"),
            (5400, "1:30:00"),
            (93_600, "26:00:00"),
        ] {
            assert_eq!(clock(seconds), shown, "{seconds}");
        }
    }

    #[test]
    fn binary_sizes() {
        for (kib, shown) in [
            (0, "0 KiB"),
            (1023, "1023 KiB"),
            (1024, "1.0 MiB"),
            (1536, "1.5 MiB"),
            (1_048_540, "1.0 GiB"),
            (1_048_576, "1.0 GiB"),
            (1_258_291, "1.2 GiB"),
            (u64::MAX, "16777216.0 PiB"),
        ] {
            assert_eq!(binary_size(kib), shown, "{kib}");
        }
    }

    #[test]
    fn reasons() {
        assert_eq!(
            time_limit_reason(5400),
            "the job exceeded its time limit of 1:30:00 and was stopped"
        );
        assert_eq!(
            memory_limit_reason(1_048_576, 1_258_291),
            "the job used 1.2 GiB of memory, over its limit of 1.0 GiB, and was killed"
        );
        assert_eq!(
            memory_limit_reason(1_048_576, 1_048_600),
            "the job used 1048600 KiB of memory, over its limit of 1048576 KiB, and was killed"
        );
        assert_eq!(
            memory_limit_reason(1_048_576, 900_000),
            "the job reached its memory limit of 1.0 GiB and was killed"
        );
    }
}
