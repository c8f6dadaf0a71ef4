//! `meshplane`: the command-line entry point. Parses the command line and
//! hands it to the subcommand in `cmd/`; the allocator is chosen in
//! `allocator.rs`.

mod allocator;
mod cmd;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    match cli.command.run(&cli.global) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("meshplane: error: {e:#}");
            ExitCode::from(cmd::EXIT_FAILURE)
        }
    }
}
