// The spec gates `upsert_link` behind no feature.
use tenx_server::route;

#[route(auth = "jwt", role = "CREATOR", feature = "exports")]
async fn upsert_link() {}

fn main() {}
