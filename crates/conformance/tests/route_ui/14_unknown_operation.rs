// `operation` names a route that does not exist.
use tenx_server::route;

#[route(operation = "upsert_links", auth = "jwt", role = "CREATOR")]
async fn save() {}

fn main() {}
