//! `vulnmail completions SHELL`

use crate::cli::{CompletionsArgs, command};
use crate::output::Output;

pub fn run(a: CompletionsArgs) -> anyhow::Result<Output> {
    let mut cmd = command();
    let mut buf = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "vulnmail", &mut buf);
    Ok(Output::text(String::from_utf8(buf)?))
}
