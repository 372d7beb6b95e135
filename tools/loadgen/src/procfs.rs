//! Process figures from `/proc`: resident memory (`VmRSS` of `/proc/<pid>/status`) and CPU
//! time (`utime + stime` of `/proc/<pid>/stat`, which covers every thread, live or exited).

use anyhow::Context;

/// Clock ticks per second of `/proc/<pid>/stat` times. `USER_HZ` is 100 on every Linux
/// architecture Rust targets (the kernel scales to it for user space); reading it through
/// `sysconf` would need `unsafe`, which the workspace forbids.
const USER_HZ: f64 = 100.0;

/// `VmRSS` of `pid` in KiB.
///
/// # Errors
/// The process is gone or the file has no `VmRSS` line.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .with_context(|| format!("no VmRSS in /proc/{pid}/status"))
}

/// CPU seconds (user + system) `pid` has used so far; `None` for the process itself.
///
/// # Errors
/// The process is gone or its stat line is not as documented in proc(5).
pub fn cpu_seconds(pid: Option<u32>) -> anyhow::Result<f64> {
    let path = pid.map_or_else(|| "/proc/self/stat".to_owned(), |p| format!("/proc/{p}/stat"));
    let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).with_context(|| format!("unexpected {path}"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let tick = |i: usize| -> anyhow::Result<f64> {
        let raw = fields.get(i).with_context(|| format!("short {path}"))?;
        Ok(raw.parse::<u64>().with_context(|| format!("field {} of {path}", i + 3))? as f64)
    };
    Ok((tick(11)? + tick(12)?) / USER_HZ)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_its_own_figures() {
        let me = std::process::id();
        assert!(super::rss_kib(me).unwrap() > 0);
        assert!(super::cpu_seconds(None).unwrap() >= 0.0);
        assert!(super::cpu_seconds(Some(me)).unwrap() >= 0.0);
    }
}
