//! The pipeline stages, one module per stage.

pub mod charset;
pub mod extract;
