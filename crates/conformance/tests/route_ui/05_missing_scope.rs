// The spec requires `links.write`; the annotation states no scope.
use tenx_server::route;

#[route(auth = "pat", feature = "growth_tools")]
async fn pat_upsert_link() {}

fn main() {}
