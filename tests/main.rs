//! Integration tests: one binary, real parts on loopback (HTTP server, SQLite file, the CLI).

mod it;
