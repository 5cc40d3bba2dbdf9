//! The report model and the team's response policy. No I/O happens here.

pub mod policy;
