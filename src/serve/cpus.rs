//! The public side's CPUs and priority (`[limits] public_cpus`, `public_nice`).
//!
//! The public listener answers anyone; the registry answers authenticated people. When the
//! public listener is flooded, its threads must not take the CPU the registry's need. Two means,
//! both per thread, both applied as each of the public side's threads starts:
//! - a lower priority (nice): when both want the same CPU, the registry's threads go first;
//! - a CPU budget (affinity): the public side's threads run only on some of the daemon's CPUs,
//!   the registry's on all of them. By default (`auto`), on two CPUs or more, the public side
//!   leaves the first one to the registry: whatever it is sent, the registry keeps at least one
//!   CPU to itself among the daemon's threads, and both when the public side is quiet.
//!
//! The plain-HTTP publication listener (CRLs, OCSP signed ahead) is anonymous too, so at the
//! lower priority, but on every CPU: its answers cost next to nothing each and relying parties
//! ask for many (see `serve::run`).
//!
//! The list syntax is `taskset -c`'s and the kernel's (`0,2-3`); parsed here because no crate
//! of the tree reads it and it is a dozen lines.

use rustix::thread::CpuSet;

/// What `public_cpus` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicCpus {
    /// All the daemon's CPUs but the first, when it has two or more.
    Auto,
    /// No confinement.
    All,
    /// These CPUs (those of them the daemon may use).
    List(Vec<usize>),
}

impl PublicCpus {
    /// Reads `auto`, `all` or a CPU list such as `1`, `1-3` or `0,2-3`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        match text {
            "auto" => return Ok(Self::Auto),
            "all" => return Ok(Self::All),
            _ => {}
        }
        let invalid = || {
            format!(
                "[limits] public_cpus : « auto », « all » ou une liste de processeurs comme « 1-3 » ou « 0,2 », pas « {} »",
                text.chars().take(40).collect::<String>().escape_debug()
            )
        };
        let mut cpus = Vec::new();
        for part in text.split(',') {
            let (first, last) = match part.split_once('-') {
                Some((a, b)) => (a, b),
                None => (part, part),
            };
            let number = |s: &str| {
                let s = s.trim();
                if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                s.parse::<usize>().ok().filter(|n| *n < CpuSet::MAX_CPU)
            };
            let (Some(first), Some(last)) = (number(first), number(last)) else {
                return Err(invalid());
            };
            if first > last {
                return Err(invalid());
            }
            cpus.extend(first..=last);
        }
        cpus.sort_unstable();
        cpus.dedup();
        Ok(Self::List(cpus))
    }

    /// The set the public side's threads are confined to, out of `allowed` (the daemon's own
    /// affinity); `None` when they may use all of them.
    pub fn confine(&self, allowed: &CpuSet) -> Result<Option<CpuSet>, String> {
        let available: Vec<usize> = (0..CpuSet::MAX_CPU)
            .filter(|c| allowed.is_set(*c))
            .collect();
        let chosen: Vec<usize> = match self {
            Self::All => return Ok(None),
            Self::Auto if available.len() < 2 => return Ok(None),
            Self::Auto => available[1..].to_vec(),
            Self::List(cpus) => cpus
                .iter()
                .copied()
                .filter(|c| allowed.is_set(*c))
                .collect(),
        };
        if chosen.is_empty() {
            return Err(format!(
                "[limits] public_cpus : aucun de ces processeurs n'est disponible pour le démon (disponibles : {})",
                describe(allowed)
            ));
        }
        if chosen.len() == available.len() {
            return Ok(None);
        }
        let mut set = CpuSet::new();
        for c in chosen {
            set.set(c);
        }
        Ok(Some(set))
    }
}

/// A CPU set as a list, `0-1,3`.
pub fn describe(set: &CpuSet) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut c = 0;
    while c < CpuSet::MAX_CPU {
        if !set.is_set(c) {
            c += 1;
            continue;
        }
        let first = c;
        while c + 1 < CpuSet::MAX_CPU && set.is_set(c + 1) {
            c += 1;
        }
        out.push(if first == c {
            first.to_string()
        } else {
            format!("{first}-{c}")
        });
        c += 1;
    }
    out.join(",")
}

/// How the public side's threads run: their nice value and their CPUs. Copied into each
/// thread's start hook.
#[derive(Debug, Clone, Copy)]
pub struct PublicSide {
    pub nice: i32,
    pub cpus: Option<CpuSet>,
}

impl PublicSide {
    /// Applies both to the calling thread (Linux keeps each per thread; threads it creates
    /// inherit them).
    pub fn enter(&self) {
        let me = rustix::thread::gettid();
        if let Err(e) = rustix::process::setpriority_process(Some(me), self.nice) {
            tracing::warn!(error = %e, nice = self.nice, "priorité des fils de l'écoute publique inchangée");
        }
        if let Some(cpus) = &self.cpus {
            // `None`: the calling thread, not the whole process.
            if let Err(e) = rustix::thread::sched_setaffinity(None, cpus) {
                tracing::warn!(error = %e, cpus = %describe(cpus), "processeurs des fils de l'écoute publique inchangés");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(cpus: &[usize]) -> CpuSet {
        let mut s = CpuSet::new();
        for c in cpus {
            s.set(*c);
        }
        s
    }

    #[test]
    fn lists_read_as_taskset_writes_them() {
        assert_eq!(PublicCpus::parse("auto"), Ok(PublicCpus::Auto));
        assert_eq!(PublicCpus::parse("all"), Ok(PublicCpus::All));
        assert_eq!(PublicCpus::parse("1"), Ok(PublicCpus::List(vec![1])));
        assert_eq!(
            PublicCpus::parse("0,2-3, 5"),
            Ok(PublicCpus::List(vec![0, 2, 3, 5]))
        );
        assert_eq!(PublicCpus::parse("3-4,4"), Ok(PublicCpus::List(vec![3, 4])));
        for bad in [
            "", "-", "1-", "3-1", "a", "1,,2", "+1", "99999", "0x1", "1-2-3",
        ] {
            let e = PublicCpus::parse(bad).expect_err(bad);
            assert!(e.contains("public_cpus"), "{e}");
        }
    }

    #[test]
    fn auto_leaves_the_first_cpu_to_the_registry() {
        let two = set(&[0, 1]);
        let got = PublicCpus::Auto.confine(&two).expect("confine");
        assert_eq!(got.map(|s| describe(&s)), Some("1".to_owned()));
        // The daemon started on CPUs 2, 5 and 6 (taskset): the first of those is kept.
        let got = PublicCpus::Auto.confine(&set(&[2, 5, 6])).expect("confine");
        assert_eq!(got.map(|s| describe(&s)), Some("5-6".to_owned()));
        // One CPU: nothing to share.
        assert_eq!(PublicCpus::Auto.confine(&set(&[3])), Ok(None));
        assert_eq!(PublicCpus::All.confine(&two), Ok(None));
    }

    #[test]
    fn a_list_keeps_only_the_daemons_cpus_and_refuses_none() {
        let allowed = set(&[0, 1, 2, 3]);
        let got = PublicCpus::List(vec![2, 3, 9])
            .confine(&allowed)
            .expect("confine");
        assert_eq!(got.map(|s| describe(&s)), Some("2-3".to_owned()));
        // Every CPU listed: no confinement to apply.
        assert_eq!(
            PublicCpus::List(vec![0, 1, 2, 3]).confine(&allowed),
            Ok(None)
        );
        let e = PublicCpus::List(vec![7, 8])
            .confine(&allowed)
            .expect_err("none of them");
        assert!(e.contains("0-3"), "{e}");
    }

    #[test]
    fn sets_are_described_as_lists() {
        assert_eq!(describe(&set(&[0, 1, 3, 5, 6, 7])), "0-1,3,5-7");
        assert_eq!(describe(&CpuSet::new()), "");
    }
}
