//! Ordinary logs (tracing, to stderr). The audit log is apart: see `store::audit`.
//!
//! Messages are French, for the people who read them; field names (and the `event` field
//! where one is given) are stable English `snake_case`, for the collectors that filter on them.
//! Colour only when stderr is a terminal (and `NO_COLOR` unset): journald and files get plain
//! text.
//!
//! `json` writes one object per line with tracing-subscriber's names, which this module keeps
//! stable: `timestamp` (RFC 3339, UTC), `level` (`ERROR` … `TRACE`), `target` (the module),
//! `fields` (`message` and the event's own fields), and `span`/`spans` inside a span.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;
use crate::datadir::DataDir;

/// Starts logging at the configured level and format; `RUST_LOG` wins over the level,
/// `format` (from `--log-format` or `SISERI_LOG_FORMAT`) over the file's format.
pub fn init(dir: &DataDir, format: Option<LogFormat>) {
    let log = dir.load_config().map(|c| c.log).unwrap_or_default();
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format.unwrap_or(log.format) {
        LogFormat::Text => builder.with_ansi(colour()).try_init(),
        LogFormat::Json => builder.json().with_ansi(false).try_init(),
    };
}

/// Colour on a terminal only, and never when `NO_COLOR` is set (<https://no-color.org/>).
fn colour() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
