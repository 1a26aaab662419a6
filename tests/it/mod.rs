//! Test modules and the shared loopback fixtures.

mod adversarial;
mod browser;
mod classify;
pub mod cli;
mod digest;
mod docs;
mod extract;
mod feeds;
mod fuzz;
mod hostile;
pub mod hostile_server;
mod kill;
mod language;
mod operator;
mod poll;
mod prune;
mod realworld;
pub mod server;
mod service;
pub mod smtp;
mod sources;
pub mod web;
mod webhook;
