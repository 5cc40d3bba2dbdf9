//! The `vulnmail` binary: parse the command line, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // A panic inside guarded OpenPGP parsing is turned into an error by the library;
    // say nothing about it here. Any other panic is a bug: say so in one line.
    std::panic::set_hook(Box::new(|info| {
        if !vulnmail::openpgp::in_guard() {
            eprintln!("vulnmail: internal error (please report it): {info}");
        }
    }));
    let cli = vulnmail::cli::Cli::parse();
    let quiet = cli.global.quiet;
    match vulnmail::commands::run(cli) {
        Ok(code) => code,
        Err(err) => vulnmail::commands::report_error(&err, quiet),
    }
}
