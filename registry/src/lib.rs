#![forbid(unsafe_code)]

mod nir;
pub use nir::{Nir, NirError};
