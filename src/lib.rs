//! veille watches news feeds for a policy-monitoring team.
//!
//! One item travels one way through the pipeline:
//! source → fetch → parse → (extract article) → detect language → classify → store → digest → mail.
//!
//! - [`config`]: TOML → typed, validated configuration.
//! - [`pipeline`]: the stages (pure where possible) and the `refresh_feed` orchestrator.
//! - [`store`]: the only code that speaks SQL.

pub mod commands;
pub mod error;
pub mod model;
pub mod pipeline;
