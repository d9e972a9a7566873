// `upsert_link` is a JWT route, not a PAT route.
use tenx_server::route;

#[route(auth = "pat", role = "CREATOR")]
async fn upsert_link() {}

fn main() {}
