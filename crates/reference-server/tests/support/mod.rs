//! The reference server on an ephemeral loopback port, seeded with the demo accounts,
//! on a virtual clock the tests share with the client.

#![allow(dead_code, unreachable_pub)]

pub mod process;

use std::sync::Arc;
use std::time::SystemTime;

use tenx_client::{Client, LoginRequest};
use tenx_client_runtime::{Clock, VirtualClock};
use tenx_reference_server::{Db, Keys, router, seed_demo, server_keys};

pub const KEY: &str = "e2e-signing-key-e2e-signing-key-e2e";
pub const CTX_KEY: &str = "e2e-ctx-key-e2e-ctx-key-e2e-ctx-key";

pub fn keys(db: &Db) -> Keys {
    server_keys(db, Some(KEY), Some(CTX_KEY)).expect("keys")
}

pub struct Server {
    pub base: String,
    pub db: Db,
    pub clock: VirtualClock,
    pub task: tokio::task::JoinHandle<()>,
}

pub async fn start_on(db: Db, clock: VirtualClock) -> Server {
    seed_demo(&db).expect("seed");
    let now = {
        let clock = clock.clone();
        Arc::new(move || clock.now())
    };
    let app = router(db.clone(), keys(&db), now);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
    });
    Server { base, db, clock, task }
}

pub async fn start() -> Server {
    // The clock starts at the real time: JWT expiry is checked against it.
    start_on(Db::in_memory().expect("db"), VirtualClock::new(SystemTime::now())).await
}

impl Server {
    pub fn client(&self) -> Client {
        Client::with_config(tenx_client::config(&self.base).clock(Arc::new(self.clock.clone()))).expect("client")
    }

    pub async fn sign_in(&self, email: &str) -> tenx_client::JwtClient {
        let login = LoginRequest { email: email.into(), password: "demo-password".into() };
        self.client().sign_in(&login).await.expect("sign in")
    }
}
