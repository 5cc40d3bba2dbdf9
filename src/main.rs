//! The `vulnmail` binary: parse the command line, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = vulnmail::cli::Cli::parse();
    let quiet = cli.global.quiet;
    match vulnmail::commands::run(cli) {
        Ok(code) => code,
        Err(err) => vulnmail::commands::report_error(&err, quiet),
    }
}
