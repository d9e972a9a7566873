// Every mistake of one attribute is reported, and the item still compiles.
use tenx_server::route;

#[route(auth = "jwt", scope = "links.write", role = "OWNER")]
async fn pat_upsert_link() {}

fn main() {
    let _ = pat_upsert_link;
}
