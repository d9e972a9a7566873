// The function name is not a route id.
use tenx_server::route;

#[route(auth = "jwt", role = "OPERATOR", feature = "growth_tools")]
async fn create_tokn() {}

fn main() {}
