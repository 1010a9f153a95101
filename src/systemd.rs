//! What systemd is told (`Type=notify`): ready once every listener is bound, reloading on
//! SIGHUP, stopping on SIGTERM. Nothing is sent when `NOTIFY_SOCKET` is unset (a shell, the
//! tests); a failed send is logged and otherwise ignored: serving matters more than telling.

use sd_notify::NotifyState;

/// Start-up is over: the listeners are bound and `listening.json` is written.
pub fn ready() {
    send(&[NotifyState::Ready], "ready");
}

/// A reload (SIGHUP) begins; [`ready`] ends it.
pub fn reloading() {
    // systemd ≥ 253 wants the monotonic time beside RELOADING=1.
    match sd_notify::NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[NotifyState::Reloading, now], "reloading"),
        Err(_) => send(&[NotifyState::Reloading], "reloading"),
    }
}

/// The service is stopping (SIGTERM or SIGINT received).
pub fn stopping() {
    send(&[NotifyState::Stopping], "stopping");
}

fn send(state: &[NotifyState], what: &str) {
    if let Err(e) = sd_notify::notify(state) {
        tracing::warn!(event = "sd_notify_failed", state = what, error = %e, "systemd n'a pas pu être prévenu");
    }
}
