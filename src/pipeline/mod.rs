//! The pipeline stages, one module per stage.
