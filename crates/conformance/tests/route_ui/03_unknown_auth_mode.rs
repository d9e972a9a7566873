// A misspelt auth mode.
use tenx_server::route;

#[route(auth = "jtw", role = "CREATOR")]
async fn upsert_link() {}

fn main() {}
