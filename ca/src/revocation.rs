//! The set of revoked serials a relying party (the registry listener) checks on every
//! handshake and every request. A lookup costs the same at 0 or 1,000,000 revocations (a hash
//! set, not a CRL walk), and the set follows the database within a fraction of a second, even
//! when another process (the CLI) revokes.

use std::collections::HashSet;
use std::sync::RwLock;

use rusqlite::{params, Connection};

use crate::Result;

/// Revoked serials, kept up to date by [`RevocationSet::refresh`].
#[derive(Debug, Default)]
pub struct RevocationSet {
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    // Our serials are 16 octets: a u128 each keeps a million of them in ~20 MB.
    short: HashSet<u128>,
    other: HashSet<Vec<u8>>,
    /// Revocation sequence number up to which the set is complete.
    seen_until: i64,
    /// SQLite's `data_version` at the last refresh: unchanged means nothing was committed.
    data_version: Option<i64>,
    loaded: bool,
}

impl Inner {
    fn insert(&mut self, serial: &[u8]) {
        match <[u8; 16]>::try_from(serial) {
            Ok(a) => {
                self.short.insert(u128::from_be_bytes(a));
            }
            Err(_) => {
                self.other.insert(serial.to_vec());
            }
        }
    }
}

impl RevocationSet {
    /// An empty set; call [`refresh`](Self::refresh) before use.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `serial` (DER INTEGER content octets) is revoked.
    pub fn is_revoked(&self, serial: &[u8]) -> bool {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        match <[u8; 16]>::try_from(serial) {
            Ok(a) => inner.short.contains(&u128::from_be_bytes(a)),
            Err(_) => inner.other.contains(serial),
        }
    }

    /// Number of revoked serials known.
    pub fn len(&self) -> usize {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        inner.short.len() + inner.other.len()
    }

    /// True when nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads what was revoked since the last refresh (everything, the first time). Cheap when
    /// nothing changed: one pragma. `conn` should be a connection kept for this purpose (its
    /// `data_version` is per connection).
    pub fn refresh(&self, conn: &Connection) -> Result<usize> {
        let version: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        let since = {
            let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
            if inner.loaded && inner.data_version == Some(version) {
                return Ok(0);
            }
            inner.seen_until
        };
        // Exactly the revocations not seen yet, by their sequence number (set by triggers).
        let mut stmt = conn.prepare_cached(
            "SELECT serial, revocation_seq FROM ca_certificates
             WHERE revocation_seq > ?1 ORDER BY revocation_seq",
        )?;
        let mut rows = stmt.query(params![since])?;
        let mut fresh: Vec<(Vec<u8>, i64)> = Vec::new();
        while let Some(row) = rows.next()? {
            fresh.push((row.get(0)?, row.get(1)?));
        }
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let mut max = inner.seen_until;
        for (serial, seq) in &fresh {
            inner.insert(serial);
            max = max.max(*seq);
        }
        inner.seen_until = max;
        inner.data_version = Some(version);
        inner.loaded = true;
        Ok(fresh.len())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Two connections to one file: `data_version` only moves for commits of *other*
    /// connections, as in the daemon (the CLI revokes, the listener reads).
    fn db() -> (tempfile::TempDir, Connection, Connection) {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("t.db");
        let mut writer = Connection::open(&path).unwrap();
        crate::migrate::apply(&mut writer, "ca", crate::migrate::MIGRATIONS).unwrap();
        let reader = Connection::open(&path).unwrap();
        (dir, writer, reader)
    }

    fn revoke(conn: &Connection, serial: &[u8], at: i64) {
        conn.execute(
            "INSERT INTO ca_certificates (serial, serial_hex, profile, subject, requester,
                 key_description, tbs, der, status, not_before, not_after, created_at, signed_at,
                 revoked_at, revocation_reason)
             VALUES (?1, hex(?1), 'person', 's', 't', 'k', x'00', x'00', 'revoked', 0, 99999999999, 0, 0, ?2, 'superseded')",
            params![serial, at],
        )
        .unwrap();
    }

    #[test]
    fn the_set_follows_revocations_incrementally() {
        let (_dir, conn, reader) = db();
        let set = RevocationSet::new();
        set.refresh(&reader).unwrap();
        assert!(set.is_empty());
        revoke(&conn, &[1; 16], 100);
        revoke(&conn, &[2; 9], 100);
        set.refresh(&reader).unwrap();
        assert!(set.is_revoked(&[1; 16]) && set.is_revoked(&[2; 9]));
        assert!(!set.is_revoked(&[3; 16]));
        // Same second as the last seen revocation: still picked up, and only it is read.
        revoke(&conn, &[3; 16], 100);
        assert_eq!(set.refresh(&reader).unwrap(), 1);
        assert!(set.is_revoked(&[3; 16]));
        // Nothing committed since: the refresh costs one pragma and reads nothing.
        assert_eq!(set.refresh(&reader).unwrap(), 0);
        assert_eq!(set.len(), 3);
    }
}
