#![forbid(unsafe_code)]
//! vulnmail runs a project's `security@` inbox.
//!
//! The pipeline, one module per stage, arrows pointing down and inwards:
//!
//! ```text
//! fetch (IMAP) -> store (raw message) -> process: MIME -> decrypt/verify
//!              -> extract fields -> report -> triage, deadlines -> acknowledge (SMTP)
//! publish: key -> keys/, security.txt, WKD, SECURITY.md
//! ```
//!
//! `commands` may use everything; nothing imports `commands` or `cli`.

pub mod ack;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod error;
pub mod mail;
pub mod openpgp;
pub mod output;
pub mod process;
pub mod publish;
pub mod report;
pub mod secrets;
pub mod store;
pub mod term;
