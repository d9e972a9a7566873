// A JWT is not a visitor session: `get_visitor_profile` is only on the visitor client.
async fn drift(client: tenx_client::JwtClient) {
    let _ = client.get_visitor_profile().await;
}

fn main() {
    let _ = drift;
}
