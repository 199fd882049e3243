//! The bounded server at the HTTP edge, over real loopback sockets: slowloris heads and
//! idle connections are closed by the header timeout (and the memory they held comes
//! back), connections over the caps are refused at once, a flooding client gets 429,
//! a stalled body is cut off, and graceful shutdown still drains.
//!
//! Each test runs the server in its own process (nextest), so `/proc/self/status`
//! measures the server and the test's own sockets, nothing else.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use simin_api::EdgeLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

struct Server {
    address: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

async fn start(limits: EdgeLimits) -> Server {
    let (_, backend) = common::app();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("an ephemeral loopback port binds");
    let address = listener
        .local_addr()
        .expect("a bound listener has an address");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(simin_api::serve_with_limits(
        listener,
        backend,
        limits,
        async move {
            let _ = stopped.await;
        },
    ));
    Server {
        address,
        stop,
        task,
    }
}

/// The resident set of this process, in bytes.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux has /proc");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("/proc/self/status has VmRSS");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("VmRSS is a number of kB");
    kib * 1024
}

const MIB: u64 = 1024 * 1024;

/// Sends one request on a fresh connection and reads the whole answer.
async fn request(address: SocketAddr, head: &str) -> String {
    let mut stream = TcpStream::connect(address).await.expect("connects");
    stream.write_all(head.as_bytes()).await.expect("writes");
    read_all(&mut stream, Duration::from_secs(5)).await
}

async fn read_all(stream: &mut TcpStream, within: Duration) -> String {
    let mut answer = Vec::new();
    match tokio::time::timeout(within, stream.read_to_end(&mut answer)).await {
        Ok(_) => String::from_utf8_lossy(&answer).into_owned(),
        Err(_) => panic!("no complete answer within {within:?}"),
    }
}

const HEALTHZ: &str = "GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";

/// Whether the server closed `stream` (EOF or reset) within `within`; bytes it sends
/// first (a 408) are read and ignored.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    let mut buffer = [0u8; 512];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_and_idle_connections_are_closed_and_their_memory_returns() {
    const HALF_SENT: usize = 500;
    const SILENT: usize = 100;
    let header_timeout = Duration::from_millis(3_000);
    let server = start(EdgeLimits {
        header_read_timeout_ms: 3_000,
        connections_max: 2_000,
        ..EdgeLimits::default()
    })
    .await;
    // Warm up the runtime, the router and the allocator before the baseline.
    for _ in 0..20 {
        assert!(request(server.address, HEALTHZ)
            .await
            .starts_with("HTTP/1.1 200"));
    }
    let baseline = rss_bytes();

    let opened = Instant::now();
    let mut streams = Vec::with_capacity(HALF_SENT + SILENT);
    for i in 0..HALF_SENT + SILENT {
        let mut stream = TcpStream::connect(server.address).await.expect("connects");
        if i < HALF_SENT {
            // A head that never ends, with a long header to make the server buffer it.
            let head = format!(
                "GET /healthz HTTP/1.1\r\nhost: x\r\nx-pad: {}",
                "a".repeat(2_000)
            );
            stream.write_all(head.as_bytes()).await.expect("writes");
        }
        streams.push(stream);
    }
    let during = rss_bytes();
    // Not closed early: the last opened of each kind is still open, well before its
    // timeout, so it is the timeout that closes them below.
    let opening = opened.elapsed();
    assert!(
        opening < header_timeout / 2,
        "opening took {opening:?}, too long to tell"
    );
    assert!(!closed_within(&mut streams[HALF_SENT - 1], Duration::from_millis(200)).await);
    assert!(
        !closed_within(
            &mut streams[HALF_SENT + SILENT - 1],
            Duration::from_millis(10)
        )
        .await
    );

    // All closed by the header timeout (plus a margin for a loaded machine).
    let deadline = opened + header_timeout + Duration::from_secs(3);
    for (i, stream) in streams.iter_mut().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            closed_within(stream, left).await,
            "connection {i} still open after {:?}",
            opened.elapsed()
        );
    }
    drop(streams);
    // Normal service meanwhile and after.
    assert!(request(server.address, HEALTHZ)
        .await
        .starts_with("HTTP/1.1 200"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_bytes();
    eprintln!(
        "RSS baseline {} KiB, with {} open connections {} KiB, after {} KiB",
        baseline / 1024,
        HALF_SENT + SILENT,
        during / 1024,
        after / 1024
    );
    assert!(
        during < baseline + 64 * MIB,
        "RSS during the load: {during} over {baseline} + 64 MiB"
    );
    assert!(
        after < baseline + 16 * MIB,
        "RSS after the load: {after} over {baseline} + 16 MiB"
    );
    let _ = server.stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_are_refused_at_once_and_service_resumes() {
    const CAP: usize = 50;
    let server = start(EdgeLimits {
        connections_max: CAP,
        ..EdgeLimits::default()
    })
    .await;
    let mut held = Vec::with_capacity(CAP);
    for _ in 0..CAP {
        held.push(TcpStream::connect(server.address).await.expect("connects"));
    }
    // The listener admits in accept order, so these all find the server full.
    for i in 0..20 {
        let started = Instant::now();
        let mut extra = TcpStream::connect(server.address)
            .await
            .expect("the kernel accepts");
        let answer = read_all(&mut extra, Duration::from_secs(2)).await;
        assert!(
            answer.starts_with("HTTP/1.1 503"),
            "extra connection {i}: {answer:?}"
        );
        assert!(
            answer.contains("application/problem+json") && answer.contains("too-many-connections")
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "refused at once"
        );
    }
    drop(held);
    // The held places come back once the server sees them closed.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = request(server.address, HEALTHZ).await;
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "service did not resume: {answer:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = server.stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_cannot_hold_every_connection() {
    let server = start(EdgeLimits {
        connections_per_client_max: 10,
        limit_loopback: true,
        ..EdgeLimits::default()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..10 {
        held.push(TcpStream::connect(server.address).await.expect("connects"));
    }
    let answer = request(server.address, HEALTHZ).await;
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer:?}");
    assert!(answer.contains("retry-after: 1"));
    drop(held);
    let _ = server.stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_client_gets_429_with_retry_after() {
    let server = start(EdgeLimits {
        requests_per_client_per_sec: 5,
        requests_per_client_burst: 10,
        limit_loopback: true,
        ..EdgeLimits::default()
    })
    .await;
    let (mut ok, mut limited) = (0, 0);
    for _ in 0..40 {
        let answer = request(server.address, HEALTHZ).await;
        if answer.starts_with("HTTP/1.1 200") {
            ok += 1;
        } else {
            assert!(answer.starts_with("HTTP/1.1 429"), "{answer:?}");
            let lower = answer.to_ascii_lowercase();
            assert!(
                lower.contains("content-type: application/problem+json"),
                "{answer:?}"
            );
            assert!(lower.contains("retry-after: 1"), "{answer:?}");
            assert!(answer.contains("https://simin.dev/problems/rate-limited"));
            limited += 1;
        }
    }
    // The burst, and at most the few the sustained rate refilled meanwhile.
    assert!((10..=20).contains(&ok), "{ok} served");
    assert!(limited >= 20, "{limited} refused");
    // The limit is per client: after waiting as told, the client is served again.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(request(server.address, HEALTHZ)
        .await
        .starts_with("HTTP/1.1 200"));
    let _ = server.stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_cut_off_by_the_body_timeout() {
    let server = start(EdgeLimits {
        body_read_timeout_ms: 500,
        ..EdgeLimits::default()
    })
    .await;
    let mut stream = TcpStream::connect(server.address).await.expect("connects");
    let head = "POST /v1/txs HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"tx\":";
    stream.write_all(head.as_bytes()).await.expect("writes");
    let started = Instant::now();
    let answer = read_all(&mut stream, Duration::from_secs(5)).await;
    // Without the body timeout only the submit route's own 35 s limit would end it.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer:?}");
    assert!(answer.contains("application/problem+json"), "{answer:?}");
    let _ = server.stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_closes_idle_connections_and_returns() {
    let server = start(EdgeLimits::default()).await;
    // A kept-alive connection after one answered request, and a silent one.
    let mut kept = TcpStream::connect(server.address).await.expect("connects");
    kept.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .expect("writes");
    let mut first = [0u8; 64];
    let n = kept.read(&mut first).await.expect("an answer");
    assert!(first[..n].starts_with(b"HTTP/1.1 200"));
    let _silent = TcpStream::connect(server.address).await.expect("connects");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let _ = server.stop.send(());
    let served = tokio::time::timeout(Duration::from_secs(5), server.task)
        .await
        .expect("serve returns soon after shutdown, well before the 10 s header timeout")
        .expect("the task did not panic");
    assert!(served.is_ok());
    assert!(closed_within(&mut kept, Duration::from_secs(1)).await);
    assert!(
        TcpStream::connect(server.address).await.is_err(),
        "no longer listening"
    );
}
