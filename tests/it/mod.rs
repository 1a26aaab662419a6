//! Test modules and the shared loopback fixtures.

mod cli;
mod poll;
pub mod server;
mod service;
