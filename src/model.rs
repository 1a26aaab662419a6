//! Plain data that travels through the pipeline.
