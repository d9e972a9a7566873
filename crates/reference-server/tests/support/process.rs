//! Real processes of the server binary on free loopback ports, as a deployment runs
//! them: for restarts, `kill -9`, and several instances on shared stores.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

const JWT_KEY: &str = "durability-jwt-key-durability-jwt-key";
const CTX_KEY: &str = "durability-ctx-key-durability-ctx-key";

/// One server process over `db`.
pub struct Process {
    child: Child,
    pub base: String,
}

impl Process {
    /// The server binary on a free port over `db`, with the demo seeded and `extra`
    /// arguments, once it answers.
    pub async fn start(db: &std::path::Path, extra: &[&str]) -> Process {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_tenx-reference-server"))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--demo", "--jwt-key", JWT_KEY, "--ctx-key", CTX_KEY])
            .arg("--db")
            .arg(db)
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary starts");
        let process = Process { child, base: format!("http://127.0.0.1:{port}") };
        for _ in 0..200 {
            if reqwest::get(format!("{}/v2/public/sdk/config", process.base)).await.is_ok() {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the server did not answer on {}", process.base);
    }

    /// `kill -9`: no shutdown of any kind.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }

    /// An access token of the demo owner, logged in on this process.
    pub async fn owner_token(&self) -> String {
        let login: Value = reqwest::Client::new()
            .post(format!("{}/v2/auth/login", self.base))
            .json(&json!({"email": "owner@demo.10x", "password": "demo-password"}))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .expect("login")
            .json()
            .await
            .expect("a token");
        login["accessToken"].as_str().expect("accessToken").to_owned()
    }

    pub async fn convert(&self, ctx: &str, key: &str) -> (u16, Value) {
        let body = json!({ "ctx": ctx, "eventType": "purchase", "value": 49.99, "idempotencyKey": key });
        let answer = reqwest::Client::new()
            .post(format!("{}/v2/public/conversions", self.base))
            .json(&body)
            .send()
            .await
            .expect("an answer");
        (answer.status().as_u16(), answer.json().await.unwrap_or_default())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// A link of the demo owner, and a signed click context for it (as a browser gets one).
pub async fn click_context(server: &Process) -> String {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("http");
    let token = server.owner_token().await;
    http.put(format!("{}/v2/handles/demo-pro/links/launch", server.base))
        .bearer_auth(&token)
        .json(&json!({"destinationUrl": "https://example.com/buy"}))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("a link");
    let answer = http.get(format!("{}/go/demo-pro/launch", server.base)).send().await.expect("a redirect");
    let location = reqwest::Url::parse(answer.headers()["location"].to_str().expect("location")).expect("a URL");
    location.query_pairs().find(|(k, _)| k == "ctx").map(|(_, v)| v.into_owned()).expect("ctx")
}
