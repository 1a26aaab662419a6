//! The pipeline stages, one module per stage, and the orchestrator that runs them in order:
//! fetch → parse → (extract) → language → classify → store; `reclassify` re-runs the topic rules
//! over stored items, `refetch` fetches again the article pages that gave no text.

pub mod article;
pub mod charset;
pub mod classify;
pub mod clean;
pub mod date;
pub mod discover;
pub mod extract;
pub mod feed_repair;
pub mod fetch;
pub mod guard;
pub mod language;
pub mod limits;
pub mod listing;
pub mod nesting;
pub mod parse;
pub mod reclassify;
pub mod refetch;
pub mod refresh;
pub mod schedule;
pub mod sources;
pub mod text;

pub use refresh::{FeedReport, Outcome, Pipeline, PipelineError, PollSummary};
