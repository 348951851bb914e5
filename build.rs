//! The suite's directories are built into the binary (src/suite): `include_dir!` tracks the
//! files it embedded, but not files added to these directories, so a change in them rebuilds.

fn main() {
    for dir in ["fixtures", "spec", "expectations", "drivers"] {
        println!("cargo:rerun-if-changed={dir}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
