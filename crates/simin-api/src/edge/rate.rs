//! Per-client request rates: a GCRA (token bucket) per client address in a table of
//! bounded size.
//!
//! The table keeps two generations: new and recently seen clients live in `current`;
//! when it reaches half the bound, `current` becomes `previous` and the old `previous`
//! is dropped. A client seen in `previous` moves back to `current`. Memory is therefore
//! at most `clients_max` entries whatever the number of addresses, every operation is
//! O(1), and the clients forgotten first are those not seen for the longest. Forgetting
//! a client forgives its debt: a flood from more addresses than the table holds is
//! beyond what per-address limits can stop, and the connection cap still holds.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The address a client is counted under: an IPv4 address, or the /64 prefix of an IPv6
/// address (one subscriber usually holds a whole /64), with IPv4-mapped IPv6 addresses
/// counted as the IPv4 address they carry.
pub(crate) fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = v6.to_bits() & !u128::from(u64::MAX);
                IpAddr::V6(Ipv6Addr::from_bits(prefix))
            }
        },
    }
}

/// A per-client limit of `per_sec` requests a second on average with bursts of `burst`.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    /// Time between two requests at the sustained rate (GCRA's emission interval).
    interval: Duration,
    /// How far a client's theoretical arrival time may run ahead of now: `burst`
    /// requests' worth of intervals.
    tolerance: Duration,
    clients_max: usize,
    table: Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    /// Each client's theoretical arrival time: when its bucket is full again.
    current: HashMap<IpAddr, Instant>,
    previous: HashMap<IpAddr, Instant>,
}

impl RateLimiter {
    /// `None` when `per_sec` is 0 (no limit). `burst` below 1 counts as 1; `clients_max`
    /// below 2 counts as 2 (one per generation).
    pub(crate) fn new(per_sec: u32, burst: u32, clients_max: usize) -> Option<RateLimiter> {
        if per_sec == 0 {
            return None;
        }
        let interval = Duration::from_secs(1) / per_sec;
        Some(RateLimiter {
            interval,
            tolerance: interval.saturating_mul(burst.max(1)),
            clients_max: clients_max.max(2),
            table: Mutex::new(Table::default()),
        })
    }

    /// Counts one request of `client` at `now`; `Err` carries how long until the next
    /// request would be allowed.
    pub(crate) fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut table = self
            .table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tat = match table.current.get(&client) {
            Some(tat) => *tat,
            None => {
                let tat = table.previous.remove(&client).unwrap_or(now);
                if table.current.len() >= self.clients_max / 2 {
                    table.previous = std::mem::take(&mut table.current);
                }
                tat
            }
        };
        let tat = tat.max(now);
        // A request is allowed while the bucket's debt (tat - now) leaves room for one
        // more interval within the tolerance.
        let new_tat = tat + self.interval;
        let debt = new_tat.saturating_duration_since(now);
        if debt > self.tolerance {
            table.current.insert(client, tat);
            return Err(debt - self.tolerance);
        }
        table.current.insert(client, new_tat);
        Ok(())
    }

    /// Clients currently remembered (both generations).
    #[cfg(test)]
    fn tracked(&self) -> usize {
        let table = self
            .table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        table.current.len() + table.previous.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from_bits(n))
    }

    #[test]
    fn a_burst_passes_then_the_rate_holds() {
        let limiter = RateLimiter::new(10, 5, 100).expect("a limit because the rate is set");
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(limiter.check(ip(1), t0).is_ok());
        }
        let retry = limiter
            .check(ip(1), t0)
            .expect_err("the sixth is over the burst");
        assert!(retry <= Duration::from_millis(100), "retry after {retry:?}");
        // Another client is not affected.
        assert!(limiter.check(ip(2), t0).is_ok());
        // One interval later, one more request passes, and only one.
        let t1 = t0 + Duration::from_millis(100);
        assert!(limiter.check(ip(1), t1).is_ok());
        assert!(limiter.check(ip(1), t1).is_err());
        // After a full refill, a whole burst again.
        let t2 = t1 + Duration::from_secs(1);
        for _ in 0..5 {
            assert!(limiter.check(ip(1), t2).is_ok());
        }
    }

    #[test]
    fn the_table_stays_bounded_under_many_addresses() {
        let limiter = RateLimiter::new(1, 1, 1_000).expect("a limit because the rate is set");
        let now = Instant::now();
        for n in 0..100_000 {
            assert!(limiter.check(ip(n), now).is_ok());
            assert!(limiter.tracked() <= 1_000);
        }
        // A client seen recently is still remembered, and still limited.
        assert!(limiter.check(ip(99_999), now).is_err());
    }

    #[test]
    fn no_rate_means_no_limiter() {
        assert!(RateLimiter::new(0, 10, 10).is_none());
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("a valid address");
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().expect("a valid address");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("a valid address");
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("a valid address");
        assert_eq!(
            client_key(mapped),
            "192.0.2.7".parse::<IpAddr>().expect("valid")
        );
    }
}
