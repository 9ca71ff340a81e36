//! The `mako` binary: everything is in the library; this only hands over the arguments.

fn main() -> std::process::ExitCode {
    mako::cli::main(std::env::args().skip(1).collect())
}
