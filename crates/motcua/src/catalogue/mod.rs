//! The procedure catalogue from the national portal's data: reading its records and list
//! exports (`raw`), parsing the run-together fields (`parse`), building versions (`build`), and
//! importing them into the store (`import`). `docs/catalogue.md` describes the format and rules.

pub mod build;
pub mod import;
pub mod parse;
pub mod raw;
