//! veille watches news feeds for a policy-monitoring team.
//!
//! One item travels one way through the pipeline:
//! source → fetch → parse → (extract article) → detect language → classify → store → digest → mail.
//!
//! - [`config`]: TOML → typed, validated configuration.
//! - [`pipeline`]: the stages (pure where possible) and the `refresh_feed` orchestrator.
//! - [`store`]: the only code that speaks SQL.
//! - [`service`]: the long-running loop and its schedule.
//! - [`digest`]: per watch list, select what is due, group, render, mail exactly once.

pub mod config;
pub mod digest;
pub mod duration;
pub mod error;
pub mod eval;
pub mod feedlist;
pub mod links;
pub mod model;
pub mod pipeline;
pub mod service;
pub mod store;
pub mod web;
