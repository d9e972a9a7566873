// A misspelt role.
use tenx_server::route;

#[route(auth = "jwt", role = "OPERATR", feature = "growth_tools")]
async fn create_token() {}

fn main() {}
