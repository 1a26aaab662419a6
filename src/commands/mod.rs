//! Subcommands of the `veille` binary, one module each: `Args` (clap) and `run`.

pub mod eval_extract;
pub mod extract;
