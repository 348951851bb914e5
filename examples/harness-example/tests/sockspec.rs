//! sockspec's suite against this crate's socket layer: one test per scenario
//! (`cargo test --test sockspec -- tcp::server` runs the TCP server's), with the deviations
//! the suite found recorded in `expectations/reuseaddr.yaml`.

use harness_example::ReuseAddr;
use sockspec::harness::Harness;

fn main() {
    Harness::new(ReuseAddr)
        .expectations_file("expectations/reuseaddr.yaml")
        .run()
}
