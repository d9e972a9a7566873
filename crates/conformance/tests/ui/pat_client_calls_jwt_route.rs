// A PAT cannot mint PATs: the JWT route `create_token` is not on the PAT client.
async fn drift(client: tenx_client::PatClient, body: tenx_client::CreateTokenRequest) {
    let _ = client.create_token("acme", &body).await;
}

fn main() {
    let _ = drift;
}
