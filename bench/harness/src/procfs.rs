//! Memory figures of a process, from `/proc/<pid>/status` (Linux).

/// A `kB` field of `/proc/<pid>/status` (`VmHWM`: peak resident set; `VmRSS`: current).
pub fn status_kb(pid: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_status_kb(&text, field)
}

pub fn parse_status_kb(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}

/// This process's peak resident set, in kB.
pub fn own_peak_rss_kb() -> Option<u64> {
    status_kb("self", "VmHWM")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kb_fields() {
        let s = "Name:\tx\nVmPeak:\t  10000 kB\nVmHWM:\t    4096 kB\nVmRSS:\t    3000 kB\n";
        assert_eq!(parse_status_kb(s, "VmHWM"), Some(4096));
        assert_eq!(parse_status_kb(s, "VmRSS"), Some(3000));
        assert_eq!(parse_status_kb(s, "VmSwap"), None);
    }

    #[test]
    fn this_process_has_a_peak() {
        assert!(own_peak_rss_kb().is_some_and(|kb| kb > 0));
    }
}
