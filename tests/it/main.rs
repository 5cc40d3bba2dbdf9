//! vulnmail's integration tests: one binary, a module per command or concern.
//!
//! Every test runs the real `vulnmail` binary with HOME, XDG_* and GNUPGHOME pinned
//! to its own temporary directory, and talks to real GnuPG and sq.

mod common;
mod mailservers;
mod proxy;

mod ack;
mod ack_compose;
mod automation;
mod bad_input;
mod cli_reference;
mod dogfood;
mod export;
mod fetch;
mod fuzz_smoke;
mod golden;
mod hostile;
mod init;
mod interop;
mod key_check;
mod key_lifecycle;
mod lookup;
mod outbox;
mod policy;
mod reports;
mod secrets;
mod triage;
