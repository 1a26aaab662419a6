//! Error types of the library: failures are values, each saying what went wrong and where.
