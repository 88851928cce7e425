//! Pure rules of motcua: identifiers and codes, the working-day calendar, procedures and their
//! workflows, and the dossier as an event-sourced state machine.
//!
//! Nothing in this crate does I/O: no async, no SQL, no HTTP. Everything here is unit- and
//! property-tested, and the other crates depend on it, never the other way round.

pub mod agency;
pub mod calendar;
pub mod catalogue;
pub mod codes;
pub mod dossier;
pub mod feedback;
pub mod files;
pub mod forms;
pub mod instant;
pub mod payment;
pub mod procedure;
pub mod queue;
pub mod stats;
pub mod status;
pub mod text;
pub mod workflow;
