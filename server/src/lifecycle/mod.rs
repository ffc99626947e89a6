//! The lifecycle of records and bytes: deleting records (by id, by filter, by retention rule),
//! garbage collection of bytes no record references, and the audit of records against stored
//! objects. `docs/lifecycle.md` is the guide; `gc.rs` explains how the collector and uploads of
//! the same bytes stay out of each other's way.

pub mod audit;
pub mod delete;
pub mod duration;
pub mod gc;
pub mod pins;
mod progress;
pub mod retention;

pub use duration::parse_duration;
pub use gc::{GcOptions, GcReport, collect_garbage};
pub use progress::GcProgress;
pub use retention::RetentionRule;
