//! Keyed hashes and fresh tokens: moved to [`store::secrets`]; kept here while call sites move.

pub use store::secrets::{new_id, new_token, ServerKey};
