//! A linearizability checker for concurrent histories, equivalent to the Go
//! checker (porcupine) that the Lab 4 key/value tests use, with its HTML
//! visualization.
//!
//! - [`Model`]: a sequential specification; [`KvModel`] is the lab's
//!   versioned key/value store.
//! - [`check`]: Wing and Gong's search with Lowe's memoization, per partition
//!   (P-compositionality) and in parallel, under a time limit; it gives a
//!   [`CheckReport`] whose [`CheckResult`] is `Ok`, `Illegal` or `Unknown`.
//! - [`write_visualization`]: the report as a self-contained HTML page, with
//!   [`Annotation`]s for the tester's own events; [`VisualizationPolicy`] and
//!   [`visualization_path`] follow the lab's `VIS_ENABLE` and `VIS_FILE`.

mod bitset;
mod cache;
mod checker;
mod entries;
mod error;
mod kv_model;
mod model;
mod policy;
mod search;
mod visualization;

pub use self::checker::{CheckReport, CheckResult, PartitionReport, check};
pub use self::error::{HistoryError, VisualizationPolicyError};
pub use self::kv_model::{KvInput, KvModel, KvOutput, KvState, PutOutcome};
pub use self::model::{Model, Operation};
pub use self::policy::{
    VISUALIZATION_FILE_VARIABLE, VISUALIZATION_POLICY_VARIABLE, VisualizationPolicy,
    visualization_path,
};
pub use self::visualization::{Annotation, write_visualization};
