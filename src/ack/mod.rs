//! Acknowledging reporters: when not to reply ([`rules`]), what a reply may quote
//! ([`echo`]), the reply's words ([`templates`]) and the message itself ([`compose`]).
//!
//! Pure library code: no network, no store. Sending, the outbox and the memory of
//! earlier automatic replies live elsewhere; only [`templates`] reads files (a
//! team's override templates).

pub mod compose;
pub mod echo;
pub mod rules;
pub mod templates;
