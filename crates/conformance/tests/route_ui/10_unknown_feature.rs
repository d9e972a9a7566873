// A misspelt feature.
use tenx_server::route;

#[route(auth = "jwt", role = "OPERATOR", feature = "growth_tool")]
async fn create_token() {}

fn main() {}
