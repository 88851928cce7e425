//! The motcua application: settings and the demo seed, used by the `motcua` binary and by the
//! end-to-end tests.

pub mod catalogue;
pub mod config;
pub mod integrations;
pub mod ops;
pub mod seed;
