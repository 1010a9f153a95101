//! What the server under load costs, read from `/proc`: CPU time (utime + stime) and peak
//! resident memory (`VmHWM`) of a process and of its direct children (nginx's workers).

use std::fs;

/// `pid` and the processes whose parent it is.
pub fn family(pid: u32) -> Vec<u32> {
    let mut pids = vec![pid];
    if let Ok(entries) = fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(child) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if child != pid && stat(child).is_some_and(|s| s.ppid == pid) {
                pids.push(child);
            }
        }
    }
    pids
}

/// CPU time of `pids`, in clock ticks, summed; a process that is gone counts for nothing.
pub fn cpu_ticks(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|&p| stat(p))
        .map(|s| s.utime + s.stime)
        .sum()
}

/// CPU time of this process, in clock ticks.
pub fn own_cpu_ticks() -> u64 {
    stat_of("self").map_or(0, |s| s.utime + s.stime)
}

/// Peak resident set size (`VmHWM`) of each of `pids`, in kB.
pub fn peak_rss_kb(pids: &[u32]) -> Vec<u64> {
    status_kb(pids, "VmHWM:")
}

/// Current resident set size (`VmRSS`) of each of `pids`, in kB.
pub fn rss_kb(pids: &[u32]) -> Vec<u64> {
    status_kb(pids, "VmRSS:")
}

fn status_kb(pids: &[u32], field: &str) -> Vec<u64> {
    pids.iter()
        .filter_map(|p| {
            let status = fs::read_to_string(format!("/proc/{p}/status")).ok()?;
            let line = status.lines().find(|l| l.starts_with(field))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .collect()
}

struct Stat {
    ppid: u32,
    utime: u64,
    stime: u64,
}

fn stat(pid: u32) -> Option<Stat> {
    stat_of(&pid.to_string())
}

fn stat_of(pid: &str) -> Option<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces or parentheses.
    let rest = text.get(text.rfind(')')? + 1..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `fields[0]` is field 3 (state): field n is `fields[n - 3]`.
    Some(Stat {
        ppid: fields.get(1)?.parse().ok()?,
        utime: fields.get(11)?.parse().ok()?,
        stime: fields.get(12)?.parse().ok()?,
    })
}
