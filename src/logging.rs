//! Ordinary logs (tracing, to stderr). The audit log is apart: see `store::audit`.

use tracing_subscriber::EnvFilter;

use crate::datadir::DataDir;

/// Starts logging at the configured level; `RUST_LOG` wins when set.
pub fn init(dir: &DataDir) {
    let level = dir
        .load_config()
        .map(|c| c.log.level)
        .unwrap_or_else(|_| "info".into());
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
