//! Shared plumbing of every component: the SQLite connection pool, the per-component schema
//! migrations, the hash-chained audit log, the clock, and the CSPRNG helpers.
//!
//! It knows nothing of certificates, protocols or workers: `ca`, `enroll` and `registry` build
//! on it, each owning its own tables. The audit log's table is the one table this crate owns
//! (migration component `store`), because every component appends to it.
#![forbid(unsafe_code)]

pub mod audit;
pub mod audit_writer;
pub mod clock;
pub mod date;
mod error;
pub mod gate;
pub mod migrate;
pub mod pool;
pub mod random;
pub mod secrets;
pub mod text;

pub use clock::{whole_seconds, Clock, FakeClock, SystemClock};
pub use error::{Error, Result};
