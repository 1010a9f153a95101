//! AC SISERI's signer: the only code that uses the CA key, meant to run in its own process
//! (`siseri signer`), apart from the process that faces the internet.
//!
//! - [`wire`]: the narrow, versioned protocol (sign this TBSCertificate, this TBSCertList,
//!   this OCSP ResponseData; nothing else);
//! - `checks`: what the key's holder checks of any to-be-signed structure before it signs;
//! - [`SignerService`]: the holder's side on a Unix socket, which also checks against the CA
//!   database that a certificate was recorded unsigned with exactly these bytes, and that an
//!   OCSP `good` is not said of a revoked certificate, and audits every signature;
//! - [`SignerClient`]: the asking side, used by an [`Authority`](crate::Authority) built with
//!   [`Authority::with_signer`](crate::Authority::with_signer).

pub(crate) mod checks;
mod client;
mod service;
pub mod wire;

pub use client::SignerClient;
pub use service::SignerService;
pub use wire::{Answer, Request};
