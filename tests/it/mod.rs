//! Test modules and the shared loopback fixtures.

mod classify;
mod cli;
mod digest;
mod extract;
mod poll;
pub mod server;
mod service;
pub mod smtp;
