// Creating a PAT needs OPERATOR, not CREATOR.
use tenx_server::route;

#[route(auth = "jwt", role = "CREATOR", feature = "growth_tools")]
async fn create_token() {}

fn main() {}
