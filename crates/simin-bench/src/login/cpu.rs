//! CPU time by component, read from `/proc`: the node, the provider and the client run on
//! separate Tokio runtimes whose threads carry their names, so each thread's user and
//! system time (`/proc/self/task/*/stat`) says whose work it did. `/proc/stat` gives the
//! whole machine's busy time, to see what other processes took meanwhile.

use std::collections::BTreeMap;

/// Clock ticks per second of `/proc` times (`USER_HZ`, 100 on Linux).
const TICKS_PER_SEC: f64 = 100.0;
/// The components, by thread-name prefix; any other thread counts as `other`.
pub const COMPONENTS: [&str; 3] = ["node", "gateway", "client"];

/// CPU seconds so far, by component, and the machine's busy and total seconds.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    pub by_component: BTreeMap<String, f64>,
    pub machine_busy: f64,
    pub machine_total: f64,
}

fn component(name: &str) -> &'static str {
    COMPONENTS
        .iter()
        .find(|c| name.starts_with(*c))
        .copied()
        .unwrap_or("other")
}

/// `(name, user + system ticks)` of one `/proc/.../stat` line.
fn thread_ticks(stat: &str) -> Option<(String, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_owned();
    // After the name: state (field 3) ... utime (field 14), stime (field 15).
    let fields: Vec<&str> = stat.get(close + 2..)?.split_whitespace().collect();
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some((name, user + system))
}

/// Reads the times now. A thread that ended since the last sample takes its time with
/// it: the runtimes keep their threads alive for the whole run.
pub fn sample() -> Sample {
    let mut by_component: BTreeMap<String, f64> = COMPONENTS
        .iter()
        .chain(["other"].iter())
        .map(|c| ((*c).to_owned(), 0.0))
        .collect();
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
                continue;
            };
            if let Some((name, ticks)) = thread_ticks(&stat) {
                // Tick counts stay far below 2^52, where f64 is exact.
                *by_component.entry(component(&name).to_owned()).or_default() +=
                    ticks as f64 / TICKS_PER_SEC;
            }
        }
    }
    let (machine_busy, machine_total) = machine().unwrap_or_default();
    Sample {
        by_component,
        machine_busy,
        machine_total,
    }
}

/// The machine's busy and total CPU seconds, over all cores, from `/proc/stat`.
fn machine() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest times are inside user).
    let total: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3)? + ticks.get(4)?;
    // Tick counts stay far below 2^52, where f64 is exact.
    Some((
        (total - idle) as f64 / TICKS_PER_SEC,
        total as f64 / TICKS_PER_SEC,
    ))
}

/// What was spent between two samples.
pub fn between(before: &Sample, after: &Sample) -> Sample {
    Sample {
        by_component: after
            .by_component
            .iter()
            .map(|(c, s)| {
                (
                    c.clone(),
                    s - before.by_component.get(c).copied().unwrap_or(0.0),
                )
            })
            .collect(),
        machine_busy: after.machine_busy - before.machine_busy,
        machine_total: after.machine_total - before.machine_total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_stat_line_gives_its_name_and_time() {
        let line = "4242 (gateway (x)) S 1 2 3 4 5 6 7 8 9 10 150 25 0 0 20 0 1 0 100 0 0";
        assert_eq!(thread_ticks(line), Some(("gateway (x)".into(), 175)));
        assert_eq!(component("gateway (x)"), "gateway");
        assert_eq!(component("tokio-runtime-w"), "other");
        let now = sample();
        assert!(now.machine_total > 0.0);
        assert!(now.by_component.values().sum::<f64>() >= 0.0);
    }
}
