// The base client carries no credential: the PAT route `pat_list_links` is not on it.
async fn drift(client: tenx_client::Client) {
    let _ = client.pat_list_links().await;
}

fn main() {
    let _ = drift;
}
