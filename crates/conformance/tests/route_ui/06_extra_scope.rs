// `links.read` is not what the spec requires for this write.
use tenx_server::route;

#[route(auth = "pat", scopes = ["links.write", "links.read"], feature = "growth_tools")]
async fn pat_upsert_link() {}

fn main() {}
