//! Mail transport: IMAP sync, importing files, SMTP sending and the outbox delivery.
//!
//! Certificates are always verified; no credential is sent before TLS is up.

pub mod deliver;
pub mod https;
pub mod imap;
pub mod import;
pub mod mime;
pub mod smtp;
pub mod tls;
