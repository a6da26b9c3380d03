//! Regression tests of the core, one per bug or limit found.
