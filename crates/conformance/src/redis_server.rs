//! A real `redis-server` for tests: started on a free loopback port, with nothing saved
//! to disk, stopped (and restarted on the same port) at will, killed when dropped.
//!
//! Tests that need one call [`RedisServer::start`]. Without a `redis-server` on the
//! `PATH` they fail when `TENX_REQUIRE_REDIS` is set (as `.ci/run` sets it), and
//! otherwise return `None` after saying on stderr what to install: a newcomer's
//! `cargo test` does not fail for want of a system package, CI never skips.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running (or stopped) `redis-server` of one test.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// A fresh server on a free port; `None` when `redis-server` is not installed and
    /// `TENX_REQUIRE_REDIS` is unset.
    ///
    /// # Panics
    /// When `redis-server` is missing and `TENX_REQUIRE_REDIS` is set, or the server
    /// does not accept connections within 10 s.
    pub fn start() -> Option<RedisServer> {
        if Command::new("redis-server").arg("--version").stdout(Stdio::null()).status().is_err() {
            if std::env::var_os("TENX_REQUIRE_REDIS").is_some() {
                panic!(
                    "this test needs `redis-server` on the PATH (apt-get install redis-server), and TENX_REQUIRE_REDIS is set"
                );
            }
            eprintln!("NOT RUN: this test needs `redis-server` on the PATH (apt-get install redis-server)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut server = RedisServer { port, child: None };
        server.resume();
        Some(server)
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server (its data goes with it, as nothing is saved).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // A frozen server dies of SIGKILL too; no thaw needed.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the server (`SIGSTOP`): connections still open, nothing answers, as a
    /// hung or partitioned Redis behaves. [`RedisServer::thaw`] undoes it.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Lets a frozen server go on (`SIGCONT`).
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("a running server").id().to_string();
        let sent = Command::new("kill").args([signal, &pid]).status().expect("kill runs");
        assert!(sent.success(), "kill {signal} {pid} failed");
    }

    /// Starts the server again on the same port, empty.
    ///
    /// # Panics
    /// When it does not accept connections within 10 s.
    pub fn resume(&mut self) {
        self.stop();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string(), "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen on port {} within 10 s", self.port);
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
