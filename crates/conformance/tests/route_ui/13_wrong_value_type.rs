// `auth` takes strings.
use tenx_server::route;

#[route(auth = jwt, role = "CREATOR")]
async fn upsert_link() {}

fn main() {}
