//! A login flood against the reference server binary (this bench's profile: release) on
//! loopback: `N` clients, each from its own loopback address (as a botnet's, so the
//! per-address limit never trips) and giving up on a request after 2 s (as wrk does),
//! send wrong-password logins for `--seconds` (default 12) while another client times
//! `GET /v2/public/sdk/config`. Reported per `N` (64 and 256 by default): the server's
//! RSS idle, at its peak (VmHWM) and 10 s after the flood; logins answered by status;
//! login p50/p99; the cheap route's p99 idle and during the flood, and their ratio.
//!
//! `cargo bench -p tenx-reference-server --bench flood [-- --seconds N --connections 64,256]`

use std::net::{IpAddr, Ipv4Addr};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

fn arg<T: std::str::FromStr>(name: &str) -> Option<T> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|s| s.parse().ok())
}

/// The number of threads of `pid`.
fn threads(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("Threads:")).and_then(|n| n.trim().parse().ok()).unwrap_or(0)
}

/// `VmRSS` and `VmHWM` of `pid`, in MiB.
fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn quantile(samples: &mut [Duration], q: f64) -> Duration {
    samples.sort();
    samples.get(((samples.len() as f64 * q) as usize).min(samples.len().saturating_sub(1))).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// The cheap route's latencies over `window`, one request at a time.
async fn probe(base: &str, window: Duration) -> Vec<Duration> {
    let http = reqwest::Client::new();
    let (mut out, end) = (Vec::new(), Instant::now() + window);
    while Instant::now() < end {
        let started = Instant::now();
        if http.get(format!("{base}/v2/public/sdk/config")).send().await.is_ok() {
            out.push(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    out
}

struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a port");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenx-reference-server"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--demo"])
        .arg("--db")
        .arg(dir.path().join("flood.db"))
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..400 {
        if reqwest::get(format!("{base}/v2/public/sdk/config")).await.is_ok() {
            return Server { child, base, _dir: dir };
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("no answer on {base}");
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let seconds: f64 = arg("--seconds").unwrap_or(12.0);
    let statuses_of_other = std::env::var_os("FLOOD_SHOW_OTHER").is_some();
    let connections: Vec<usize> = arg::<String>("--connections")
        .map_or_else(|| vec![64, 256], |s| s.split(',').filter_map(|n| n.parse().ok()).collect());
    println!("login flood: wrong passwords from N loopback addresses, {seconds} s, 2 s client timeout");
    println!(
        "| N | RSS idle → peak → 10 s after (MiB) | logins: 401 / 503 / other / no answer | login p50 / p99 ms | cheap route p99 idle → flood ms | ratio |"
    );
    println!("|---|---|---|---|---|---|");
    for n in connections {
        let mut server = start().await;
        let pid = server.child.id();
        let idle_probe = probe(&server.base, Duration::from_secs(2)).await;
        let (idle_rss, _) = memory(pid);
        let stop = Arc::new(AtomicBool::new(false));
        let flood: Vec<_> = (0..n)
            .map(|i| {
                let (base, stop) = (server.base.clone(), stop.clone());
                // 127.0.1.1, 127.0.1.2, …: one address per client.
                let address = IpAddr::V4(Ipv4Addr::new(127, 0, 1 + (i / 250) as u8, 1 + (i % 250) as u8));
                tokio::spawn(async move {
                    let http = reqwest::Client::builder()
                        .local_address(address)
                        .timeout(Duration::from_secs(2))
                        .pool_max_idle_per_host(1)
                        .build()
                        .expect("http");
                    let mut seen = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let started = Instant::now();
                        let body = json!({ "email": format!("nobody{i}@flood.test"), "password": "wrong-password" });
                        let status = http
                            .post(format!("{base}/v2/auth/login"))
                            .json(&body)
                            .send()
                            .await
                            .map_or(0, |r| r.status().as_u16());
                        seen.push((status, started.elapsed()));
                    }
                    seen
                })
            })
            .collect();
        let probing = tokio::spawn({
            let base = server.base.clone();
            async move { probe(&base, Duration::from_secs_f64(seconds)).await }
        });
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
        let flood_threads = threads(pid);
        stop.store(true, Ordering::Relaxed);
        let mut flood_probe = probing.await.expect("the probe");
        let mut answers = Vec::new();
        for client in flood {
            answers.extend(client.await.expect("a client"));
        }
        let (_, peak) = memory(pid);
        tokio::time::sleep(Duration::from_secs(10)).await;
        let (after, _) = memory(pid);
        let count = |f: &dyn Fn(u16) -> bool| answers.iter().filter(|(s, _)| f(*s)).count();
        let mut login: Vec<Duration> = answers.iter().filter(|(s, _)| *s != 0).map(|(_, d)| *d).collect();
        let (p50, p99) = (quantile(&mut login, 0.5), quantile(&mut login, 0.99));
        let mut idle_probe = idle_probe;
        let (idle_p99, flood_p99) = (quantile(&mut idle_probe, 0.99), quantile(&mut flood_probe, 0.99));
        println!(
            "| {n} | {idle_rss:.0} → {peak:.0} → {after:.0} | {} / {} / {} / {} | {} / {} | {} → {} | {:.2}× | {flood_threads} |",
            count(&|s| s == 401),
            count(&|s| s == 503),
            count(&|s| s != 401 && s != 503 && s != 0),
            count(&|s| s == 0),
            ms(p50),
            ms(p99),
            ms(idle_p99),
            ms(flood_p99),
            flood_p99.as_secs_f64() / idle_p99.as_secs_f64().max(1e-9),
        );
        if statuses_of_other {
            let mut other: Vec<u16> = answers.iter().map(|(s, _)| *s).filter(|s| *s != 401 && *s != 503).collect();
            other.sort_unstable();
            other.dedup();
            println!("other statuses: {other:?}");
        }
        let _ = server.child.kill();
        let _ = server.child.wait();
    }
}
