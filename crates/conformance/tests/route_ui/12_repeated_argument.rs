// `scope` and `scopes` are one argument.
use tenx_server::route;

#[route(auth = "pat", scope = "links.write", scopes = ["links.write"], feature = "growth_tools")]
async fn pat_upsert_link() {}

fn main() {}
