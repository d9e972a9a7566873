// A misspelt scope.
use tenx_server::route;

#[route(auth = "pat", scope = "links.wrte", feature = "growth_tools")]
async fn pat_upsert_link() {}

fn main() {}
