//! The report model, field extraction, and the team's response policy.
//! No I/O happens here: everything takes text and returns values.

pub mod deadline;
pub mod export;
pub mod extract;
pub mod model;
pub mod policy;
pub mod policy_import;
pub mod severity;
pub mod state;
