//! Mail transport: IMAP sync, importing files, and (later) SMTP sending.
//!
//! Certificates are always verified; no credential is sent before TLS is up.

pub mod https;
pub mod imap;
pub mod import;
pub mod mime;
pub mod tls;
