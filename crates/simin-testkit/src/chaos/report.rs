//! What a chaos run found: its counts, the violations of the properties it checks, and
//! the summary `scripts/chaos` prints.

use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::Duration;

use simin_types::{Hash, Height, PublicKey, VoteKind};
use tracing::warn;

use super::RecordedEquivocation;
use crate::{read_key, Testnet};

/// Log lines kept as evidence of equivocations seen by nodes.
const EVIDENCE_LINES_MAX: usize = 20;
/// What a node logs when the engine hands it evidence of an equivocation, whether or not
/// it could submit the report (simin-node's evidence module).
const EVIDENCE_MARKERS: [&str; 2] = ["reporting an equivocation", "cannot report an equivocation"];

/// A property the run found broken.
#[derive(Clone, Debug)]
pub enum Violation {
    /// A transaction a node acknowledged as committed is not on `node`.
    Lost {
        hash: Hash,
        nonce: u64,
        acked_height: Height,
        acked_by: String,
        node: String,
    },
    /// An acknowledged transaction is on `node` at another height.
    Moved {
        hash: Hash,
        acked_height: Height,
        found_height: Height,
        node: String,
    },
    /// Two nodes have different blocks (or state roots) at one height.
    Fork { height: Height, detail: String },
    /// A node lacks a block below the audited tip.
    MissingBlock { node: String, height: Height },
    /// A validator's equivocation is recorded on chain (every validator here is honest).
    Equivocation {
        validator: String,
        height: Height,
        round: u32,
        kind: VoteKind,
        recorded_at: Height,
    },
    /// Nodes' logs show they reported equivocations (`count` lines; the first one).
    EvidenceLogged { count: usize, first: String },
    /// The validators did not move two heights past a fault in time.
    Stalled {
        after: String,
        node: String,
        target: Height,
        last: Option<Height>,
    },
    /// A node did not reach the final tip.
    NotCaughtUp {
        node: String,
        tip: Height,
        last: Option<Height>,
    },
    /// A node exited without being told to.
    Crashed { node: String, detail: String },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Lost { hash, nonce, acked_height, acked_by, node } => write!(
                f,
                "lost: tx {hash} (nonce {nonce}) acknowledged at height {acked_height} by {acked_by} is not on {node}"
            ),
            Violation::Moved { hash, acked_height, found_height, node } => write!(
                f,
                "moved: tx {hash} acknowledged at height {acked_height} is at {found_height} on {node}"
            ),
            Violation::Fork { height, detail } => write!(f, "fork at height {height}: {detail}"),
            Violation::MissingBlock { node, height } => {
                write!(f, "missing block: {node} has no block at height {height}")
            }
            Violation::Equivocation { validator, height, round, kind, recorded_at } => write!(
                f,
                "equivocation recorded: honest validator {validator} double-signed a {kind:?} at height {height} round {round} (recorded at height {recorded_at})"
            ),
            Violation::EvidenceLogged { count, first } => {
                write!(f, "{count} equivocation report(s) in node logs, first: {first}")
            }
            Violation::Stalled { after, node, target, last } => write!(
                f,
                "stalled after {after}: {node} did not reach height {target} (last {last:?})"
            ),
            Violation::NotCaughtUp { node, tip, last } => {
                write!(f, "{node} did not reach the final tip {tip} (last {last:?})")
            }
            Violation::Crashed { node, detail } => write!(f, "crash: {node}: {detail}"),
        }
    }
}

/// The outcome of a chaos run.
#[derive(Debug)]
pub struct ChaosReport {
    pub seed: u64,
    pub elapsed: Duration,
    /// Single validators killed with SIGKILL, and stopped with SIGTERM.
    pub kills: u32,
    pub terms: u32,
    pub whole_restarts: u32,
    /// Transactions acknowledged as committed, and how many of them failed in execution.
    pub acked: usize,
    pub failed_acked: usize,
    /// Transactions in flight when the load stopped (not acknowledged, not checked).
    pub unconfirmed: u64,
    pub failed_attempts: u64,
    pub load_errors: Vec<String>,
    /// The last height audited on every node.
    pub tip: Height,
    /// (acknowledged tx, node) pairs where the node lacks the tx.
    pub lost: usize,
    pub equivocations: Vec<RecordedEquivocation>,
    /// Lines of node logs that report an equivocation.
    pub evidence_lines: Vec<String>,
    pub violations: Vec<Violation>,
    pub out: Option<PathBuf>,
}

impl ChaosReport {
    /// Whether no property was broken.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}

impl fmt::Display for ChaosReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "chaos summary (seed {})", self.seed)?;
        writeln!(
            f,
            "  duration             {:.1} s",
            self.elapsed.as_secs_f64()
        )?;
        writeln!(f, "  validator kill -9    {}", self.kills)?;
        writeln!(f, "  validator SIGTERM    {}", self.terms)?;
        writeln!(f, "  whole-net restarts   {}", self.whole_restarts)?;
        writeln!(f, "  heights audited      {}", self.tip)?;
        writeln!(
            f,
            "  acknowledged txs     {} ({} failed in execution)",
            self.acked, self.failed_acked
        )?;
        writeln!(f, "  unconfirmed at stop  {}", self.unconfirmed)?;
        writeln!(f, "  lost txs             {}", self.lost)?;
        writeln!(
            f,
            "  equivocations        {} recorded by honest validators",
            self.equivocations.len()
        )?;
        writeln!(f, "  evidence log lines   {}", self.evidence_lines.len())?;
        for line in &self.evidence_lines {
            writeln!(f, "    {line}")?;
        }
        if let Some(out) = &self.out {
            writeln!(f, "  logs                 {}", out.join("logs").display())?;
        }
        if self.passed() {
            write!(f, "PASS")
        } else {
            writeln!(f, "violations ({}):", self.violations.len())?;
            for v in &self.violations {
                writeln!(f, "  - {v}")?;
            }
            write!(f, "FAIL (replay with --seed {})", self.seed)
        }
    }
}

/// The node name of each validator key (`<home>/keys/node.key`).
pub(crate) fn validator_names(net: &Testnet) -> HashMap<PublicKey, String> {
    let mut names = HashMap::new();
    for (i, node) in net.info().nodes.iter().enumerate() {
        match read_key(&node.home.join("keys").join("node.key")) {
            Ok(key) => {
                names.insert(key.public_key(), net.name(i));
            }
            Err(e) => warn!(%e, "cannot read a node key"),
        }
    }
    names
}

/// Lines of the logs that report an equivocation, prefixed with the log's file name.
pub(crate) fn evidence_lines(logs: &[PathBuf]) -> Vec<String> {
    let mut lines = Vec::new();
    for log in logs {
        let Ok(file) = std::fs::File::open(log) else {
            continue;
        };
        let name = log
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        // Lines are read one by one; a log is never held in memory whole.
        for line in BufReader::new(file).lines().map_while(Result::ok) {
            if EVIDENCE_MARKERS.iter().any(|m| line.contains(m)) && lines.len() < EVIDENCE_LINES_MAX
            {
                lines.push(format!("{name}: {line}"));
            }
        }
    }
    lines
}

/// Copies the nodes' homes (`<net>/net`) to `<out>/net` for inspection.
pub(crate) fn keep_homes(net_dir: &Path, out: &Path) {
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(net_dir.join("net"))
        .arg(out)
        .status();
    match status {
        Ok(s) if s.success() => {}
        other => warn!(?other, out = %out.display(), "cannot keep the nodes' homes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_lines_are_the_nodes_equivocation_reports() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let log = dir.path().join("node2.log");
        let report = "2026-05-20T02:01:07Z  INFO simin_node::evidence: reporting an \
                      equivocation validator=ab12 height=2582 round=3 kind=Prevote";
        let text = format!("INFO committed height=2581\n{report}\nINFO committed height=2582\n");
        std::fs::write(&log, text).expect("log written");
        let missing = dir.path().join("absent.log");
        let lines = evidence_lines(&[log, missing]);
        assert_eq!(lines, vec![format!("node2.log: {report}")]);
    }

    #[test]
    fn a_report_fails_on_any_violation() {
        let mut report = ChaosReport {
            seed: 7,
            elapsed: Duration::from_secs(1),
            kills: 0,
            terms: 0,
            whole_restarts: 0,
            acked: 0,
            failed_acked: 0,
            unconfirmed: 0,
            failed_attempts: 0,
            load_errors: Vec::new(),
            tip: Height(1),
            lost: 0,
            equivocations: Vec::new(),
            evidence_lines: Vec::new(),
            violations: Vec::new(),
            out: None,
        };
        assert!(report.passed());
        assert!(report.to_string().ends_with("PASS"));
        report.violations.push(Violation::Equivocation {
            validator: "node1".into(),
            height: Height(2582),
            round: 3,
            kind: VoteKind::Prevote,
            recorded_at: Height(2583),
        });
        assert!(!report.passed());
        let text = report.to_string();
        assert!(
            text.contains("honest validator node1 double-signed a Prevote at height 2582 round 3")
        );
        assert!(text.ends_with("FAIL (replay with --seed 7)"));
    }
}
