//! Test modules and the shared loopback fixtures.

mod cli;
mod digest;
mod extract;
mod language;
mod poll;
pub mod server;
mod service;
pub mod smtp;
