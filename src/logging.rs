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
use std::sync::OnceLock;

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
    let format = format.unwrap_or(log.format);
    let _ = FORMAT.set(format);
    // The two formats have two handle types: each is kept behind the same closure.
    let (set, reloader): (Option<Reloader>, _) = match format {
        LogFormat::Text => {
            let builder = builder.with_ansi(colour()).with_filter_reloading();
            let handle = builder.reload_handle();
            (
                Some(Box::new(move |f| {
                    handle.reload(f).map_err(|e| e.to_string())
                })),
                builder.try_init(),
            )
        }
        LogFormat::Json => {
            let builder = builder.json().with_ansi(false).with_filter_reloading();
            let handle = builder.reload_handle();
            (
                Some(Box::new(move |f| {
                    handle.reload(f).map_err(|e| e.to_string())
                })),
                builder.try_init(),
            )
        }
    };
    if reloader.is_ok() {
        if let Some(set) = set {
            let _ = RELOAD.set(set);
        }
    }
}

/// The format [`init`] chose, which child processes (the signer) are given too, so that one
/// log stream keeps one format.
static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// The format this process logs in, once [`init`] ran: `text` or `json`, as
/// `SISERI_LOG_FORMAT` takes it.
pub fn format_name() -> Option<&'static str> {
    FORMAT.get().map(|f| match f {
        LogFormat::Text => "text",
        LogFormat::Json => "json",
    })
}

/// Replaces the filter of the subscriber [`init`] installed.
type Reloader = Box<dyn Fn(EnvFilter) -> Result<(), String> + Send + Sync>;

static RELOAD: OnceLock<Reloader> = OnceLock::new();

/// What [`reload_level`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Reloaded {
    /// The new level is in force.
    Level(String),
    /// `RUST_LOG` is set: it keeps winning over the file.
    KeptRustLog,
}

/// Puts `level` (`[log] level`) in force without a restart (SIGHUP). `RUST_LOG`, when set,
/// keeps winning, as at start. An invalid level changes nothing.
pub fn reload_level(level: &str) -> Result<Reloaded, String> {
    if std::env::var_os("RUST_LOG").is_some_and(|v| !v.is_empty()) {
        return Ok(Reloaded::KeptRustLog);
    }
    let filter = EnvFilter::try_new(level)
        .map_err(|_| "niveau des journaux [log] level invalide".to_owned())?;
    let reload = RELOAD
        .get()
        .ok_or_else(|| "journaux non initialisés".to_owned())?;
    reload(filter)?;
    Ok(Reloaded::Level(level.to_owned()))
}

/// Colour on a terminal only, and never when `NO_COLOR` is set (<https://no-color.org/>).
fn colour() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
