//! Local servers that speak outside systems' protocols, with failure injection, for tests,
//! demos (`motcua sandbox ...`) and benchmarks.

pub mod dvcqg;
pub mod population;
pub mod sms;
pub mod zalo;

pub use dvcqg::{Faults, SandboxHandle, Summary};
