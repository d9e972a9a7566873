//! The downstream crate against a hand-rolled HTTP server (tokio only: the SDK's own
//! dependency is `tenx-client` alone).

use std::sync::Arc;

use tenx_client::ErrorCode;
use tenx_client_downstream::{Problem, SdkHook, problem, sdk_client, summary};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Answers each connection's request with the next canned response; returns the base URL
/// and the requests it saw.
async fn serve(responses: Vec<&'static str>) -> (String, tokio::task::JoinHandle<Vec<String>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let mut seen = Vec::new();
        for response in responses {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buffer).await.expect("read");
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buffer[..n]);
            }
            seen.push(String::from_utf8_lossy(&request).into_owned());
            socket.write_all(response.as_bytes()).await.expect("write");
            let _ = socket.shutdown().await;
        }
        seen
    });
    (base, task)
}

const OK: &str = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-request-id: req-7\r\nconnection: close\r\ncontent-length: 15\r\n\r\n{\"handles\": []}";
const FORBIDDEN: &str = "HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: 80\r\n\r\n{\"error\":{\"code\":\"insufficient_role\",\"message\":\"Needs OWNER.\",\"statusCode\":403}}";

#[tokio::test]
async fn an_sdk_built_on_tenx_client_alone_sees_answers_errors_and_its_hook() {
    let (base, server) = serve(vec![OK, FORBIDDEN]).await;
    let hook = Arc::new(SdkHook::default());
    let user = sdk_client(&base, hook.clone()).expect("client").with_jwt("a.b.c");

    let answer = user.list_handles().await.expect("200");
    assert_eq!(summary(&answer), (200, Some("req-7")));

    let error = user.list_handles().await.expect_err("403");
    assert_eq!(problem(&error), Problem::Forbidden(ErrorCode::InsufficientRole));

    let seen = server.await.expect("server");
    assert!(seen.iter().all(|r| r.to_ascii_lowercase().contains("x-sdk: downstream/1")), "{seen:?}");
    assert_eq!(*hook.statuses.lock().expect("statuses"), [Some(200), Some(403)]);
}
