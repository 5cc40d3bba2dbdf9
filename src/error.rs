//! The one distinction `main` needs: was it the user's mistake (exit 2) or a failure (exit 1)?

use std::fmt;

/// An error the user can fix by changing how vulnmail is called or configured.
///
/// Anywhere in an `anyhow` chain, it makes the process exit with status 2.
#[derive(Debug)]
pub struct UserError(pub String);

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

/// Shorthand for `Err(UserError(..).into())`.
pub fn user<T>(msg: impl Into<String>) -> anyhow::Result<T> {
    Err(UserError(msg.into()).into())
}

/// A user error as a value, for `map_err` and `ok_or_else`.
pub fn user_err(msg: impl Into<String>) -> anyhow::Error {
    UserError(msg.into()).into()
}
