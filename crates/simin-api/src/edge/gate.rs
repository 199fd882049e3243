//! Connection admission: the server-wide and per-client caps on open connections, and
//! how a refused connection is answered and logged.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

/// How often, at most, a refusal is logged; the refusals in between are counted.
const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The server holds `connections_max` connections.
    ServerFull,
    /// This client holds `connections_per_client_max` connections.
    ClientFull,
}

impl Refusal {
    /// The whole HTTP/1.1 response written to a refused connection before it is closed,
    /// so that a client learns why instead of seeing a bare reset.
    fn response(self) -> String {
        let (status, slug, title, detail) = match self {
            Refusal::ServerFull => (
                "503 Service Unavailable",
                "too-many-connections",
                "Too many connections",
                "the server holds as many connections as it serves; retry shortly",
            ),
            Refusal::ClientFull => (
                "429 Too Many Requests",
                "too-many-connections",
                "Too many connections",
                "this address holds as many connections as one client may; reuse them",
            ),
        };
        let code = &status[..3];
        let body = format!(
            r#"{{"type":"{}{slug}","title":"{title}","status":{code},"detail":"{detail}"}}"#,
            crate::PROBLEM_TYPE_BASE
        );
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: {}\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
            crate::PROBLEM_CONTENT_TYPE,
            body.len()
        )
    }
}

/// The open connections, in total and per client.
#[derive(Debug)]
pub(crate) struct Gate {
    connections_max: usize,
    per_client_max: usize,
    open: Mutex<Open>,
    log: Mutex<RefusalLog>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    /// Only clients with an open, per-client-limited connection: at most
    /// `connections_max` entries.
    by_client: HashMap<IpAddr, usize>,
}

#[derive(Debug, Default)]
struct RefusalLog {
    last: Option<Instant>,
    unlogged: u64,
}

/// One admitted connection; dropping it frees its place.
#[derive(Debug)]
pub(crate) struct Slot {
    gate: Arc<Gate>,
    /// The client it counts against, when per-client limits apply to it.
    client: Option<IpAddr>,
}

impl Gate {
    pub(crate) fn new(connections_max: usize, per_client_max: usize) -> Gate {
        Gate {
            connections_max,
            per_client_max,
            open: Mutex::new(Open::default()),
            log: Mutex::new(RefusalLog::default()),
        }
    }

    /// Admits a connection from `client` (`None`: exempt from the per-client cap).
    pub(crate) fn enter(self: &Arc<Self>, client: Option<IpAddr>) -> Result<Slot, Refusal> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.total >= self.connections_max {
            return Err(Refusal::ServerFull);
        }
        if let Some(client) = client {
            let count = open.by_client.entry(client).or_insert(0);
            if *count >= self.per_client_max {
                return Err(Refusal::ClientFull);
            }
            *count += 1;
        }
        open.total += 1;
        Ok(Slot {
            gate: Arc::clone(self),
            client,
        })
    }

    /// Writes the refusal to `stream` (if its send buffer takes it at once: a refused
    /// client is never waited for) and closes it; logs at most every ten seconds.
    pub(crate) fn refuse(&self, stream: TcpStream, peer: IpAddr, refusal: Refusal) {
        let _ = stream.try_write(refusal.response().as_bytes());
        drop(stream);
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if log
            .last
            .is_some_and(|last| now.duration_since(last) < REFUSAL_LOG_INTERVAL)
        {
            log.unlogged = log.unlogged.saturating_add(1);
            return;
        }
        let also_refused = std::mem::take(&mut log.unlogged);
        log.last = Some(now);
        drop(log);
        let open = self
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total;
        tracing::warn!(
            ?refusal,
            %peer,
            open,
            connections_max = self.connections_max,
            connections_per_client_max = self.per_client_max,
            also_refused,
            "HTTP connection refused at the edge",
        );
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .gate
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        open.total = open.total.saturating_sub(1);
        if let Some(client) = self.client {
            if let Some(count) = open.by_client.get_mut(&client) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    open.by_client.remove(&client);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_hold_and_places_are_freed() {
        let gate = Arc::new(Gate::new(3, 2));
        let a: IpAddr = "192.0.2.1".parse().expect("valid");
        let b: IpAddr = "192.0.2.2".parse().expect("valid");
        let a1 = gate.enter(Some(a)).expect("first of a");
        let _a2 = gate.enter(Some(a)).expect("second of a");
        assert_eq!(gate.enter(Some(a)).err(), Some(Refusal::ClientFull));
        let _b1 = gate.enter(Some(b)).expect("b has its own count");
        assert_eq!(gate.enter(None).err(), Some(Refusal::ServerFull));
        drop(a1);
        let _a3 = gate.enter(Some(a)).expect("a's place was freed");
        assert_eq!(
            gate.open.lock().expect("not poisoned").by_client.len(),
            2,
            "one entry per client with open connections"
        );
    }

    #[test]
    fn refusals_are_complete_http_responses() {
        for refusal in [Refusal::ServerFull, Refusal::ClientFull] {
            let text = refusal.response();
            let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
            assert!(head.contains(&format!("content-length: {}", body.len())));
            let json: serde_json::Value = serde_json::from_str(body).expect("JSON");
            assert_eq!(json["status"].to_string(), head[9..12]);
        }
    }
}
