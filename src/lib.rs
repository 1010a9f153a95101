//! The `siseri` binary's library: configuration, data directory, database, listeners, CLI.
#![forbid(unsafe_code)]

pub mod arenas;
pub mod cli;
pub mod config;
pub mod datadir;
pub mod db;
pub mod demo;
pub mod error;
pub mod logging;
pub mod mtls;
pub mod recepisse;
pub mod secrets;
pub mod serve;
pub mod services;
pub mod signer;
pub mod systemd;
