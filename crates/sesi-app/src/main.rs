//! The `sesi` binary: a thin shell over `sesi_app::cli`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    sesi_app::cli::run(sesi_app::cli::Cli::parse())
}
