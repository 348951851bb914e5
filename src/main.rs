//! The `sockspec` binary; see [`sockspec::cli`].

fn main() -> std::process::ExitCode {
    sockspec::cli::main()
}
