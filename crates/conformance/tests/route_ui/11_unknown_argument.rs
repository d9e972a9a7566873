// `scopes` misspelt.
use tenx_server::route;

#[route(auth = "pat", scoeps = ["links.write"], feature = "growth_tools")]
async fn pat_upsert_link() {}

fn main() {}
