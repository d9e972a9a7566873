// The spec gates the route behind `growth_tools`; the annotation omits it.
use tenx_server::route;

#[route(auth = "jwt", role = "OPERATOR")]
async fn create_token() {}

fn main() {}
