//! The set of revoked serials a relying party (the registry listener) checks on every
//! handshake and every request. A lookup costs the same at 0 or 1,000,000 revocations (a hash
//! set, not a CRL walk), and the set follows the database within a fraction of a second, even
//! when another process (the CLI) revokes.

use std::collections::HashSet;
use std::sync::RwLock;

use rusqlite::types::Type;
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
    /// Moves `fresh` in: the smaller set is added to the larger, so that the first load (into
    /// an empty set) is a move, not a copy.
    fn merge(&mut self, mut fresh: Inner) {
        if self.short.len() < fresh.short.len() {
            std::mem::swap(&mut self.short, &mut fresh.short);
        }
        self.short.extend(fresh.short);
        if self.other.len() < fresh.other.len() {
            std::mem::swap(&mut self.other, &mut fresh.other);
        }
        self.other.extend(fresh.other);
        self.seen_until = self.seen_until.max(fresh.seen_until);
    }

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
    ///
    /// The rows are read outside the lock, each serial straight from SQLite's buffer into its
    /// `u128`, into a set sized beforehand on the first load (a million serials: one table,
    /// never grown by doubling), then moved in.
    pub fn refresh(&self, conn: &Connection) -> Result<usize> {
        let version: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        let (since, loaded) = {
            let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
            if inner.loaded && inner.data_version == Some(version) {
                return Ok(0);
            }
            (inner.seen_until, inner.loaded)
        };
        let mut fresh = Inner {
            seen_until: since,
            ..Inner::default()
        };
        if !loaded {
            // Counted over the index on revocation_seq. An estimate for the capacity only: a
            // revocation committed meanwhile is still read below.
            let count: i64 = conn.query_row(
                "SELECT count(*) FROM ca_certificates WHERE revocation_seq > ?1",
                params![since],
                |r| r.get(0),
            )?;
            fresh.short.reserve(usize::try_from(count).unwrap_or(0));
        }
        // Exactly the revocations not seen yet, by their sequence number (set by triggers).
        let mut stmt = conn.prepare_cached(
            "SELECT serial, revocation_seq FROM ca_certificates
             WHERE revocation_seq > ?1 ORDER BY revocation_seq",
        )?;
        let mut rows = stmt.query(params![since])?;
        let mut read = 0;
        while let Some(row) = rows.next()? {
            let serial = row.get_ref(0)?.as_blob().map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(0, Type::Blob, Box::new(e))
            })?;
            fresh.insert(serial);
            fresh.seen_until = fresh.seen_until.max(row.get(1)?);
            read += 1;
        }
        drop(rows);
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        inner.merge(fresh);
        inner.data_version = Some(version);
        inner.loaded = true;
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two connections to one file: `data_version` only moves for commits of *other*
    /// connections, as in the daemon (the CLI revokes, the listener reads).
    fn db() -> (tempfile::TempDir, Connection, Connection) {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("t.db");
        let mut writer = Connection::open(&path).unwrap();
        crate::migrations::apply(&mut writer).unwrap();
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

    /// Revocations committed on `conn`, numbered by the triggers; returns how many rows the
    /// last one's statement stepped through in full scans.
    fn revoke_counting_scans(conn: &Connection, count: u32) -> i32 {
        let mut stmt = conn
            .prepare(
                "INSERT INTO ca_certificates (serial, serial_hex, profile, subject, requester,
                     key_description, tbs, der, status, not_before, not_after, created_at,
                     signed_at, revoked_at, revocation_reason)
                 VALUES (?1, hex(?1), 'person', 's', 't', 'k', x'00', x'00', 'revoked', 0,
                     99999999999, 0, 0, 0, 'superseded')",
            )
            .unwrap();
        for i in 0..count {
            stmt.execute([i.to_be_bytes()]).unwrap();
        }
        stmt.get_status(rusqlite::StatementStatus::FullscanStep)
    }

    #[test]
    fn a_revocation_is_numbered_without_scanning_the_certificates() {
        let dir = tempfile::TempDir::new().unwrap();
        let mut before = Connection::open(dir.path().join("0004.db")).unwrap();
        store::migrate::apply(&mut before, "store", store::migrate::MIGRATIONS).unwrap();
        store::migrate::apply(&mut before, "ca", &crate::migrations::MIGRATIONS[..3]).unwrap();
        assert!(
            revoke_counting_scans(&before, 200) > 0,
            "the triggers of 0004 scan the table"
        );
        let (_dir, conn, _reader) = db();
        assert_eq!(revoke_counting_scans(&conn, 200), 0);
        let last: i64 = conn
            .query_row("SELECT max(revocation_seq) FROM ca_certificates", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(last, 200, "numbered 1 to 200");
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

    #[test]
    fn the_first_load_reads_every_revocation_then_only_the_new_ones() {
        let (_dir, mut conn, reader) = db();
        let serial = |i: u32| {
            let mut s = [0x40; 16];
            s[12..].copy_from_slice(&i.to_be_bytes());
            s
        };
        let tx = conn.transaction().unwrap();
        for i in 0..3_000 {
            revoke(&tx, &serial(i), 100);
        }
        revoke(&tx, &[9; 9], 100);
        tx.commit().unwrap();

        let set = RevocationSet::new();
        assert_eq!(set.refresh(&reader).unwrap(), 3_001);
        assert_eq!(set.len(), 3_001);
        assert!((0..3_000).all(|i| set.is_revoked(&serial(i))));
        assert!(set.is_revoked(&[9; 9]));
        assert!(!set.is_revoked(&serial(3_000)));
        {
            let inner = set.inner.read().unwrap();
            assert_eq!(inner.seen_until, 3_001);
            assert!(inner.short.capacity() >= 3_000);
        }

        revoke(&conn, &serial(3_000), 101);
        assert_eq!(set.refresh(&reader).unwrap(), 1);
        assert!(set.is_revoked(&serial(3_000)));
        assert_eq!(set.len(), 3_002);
        // A second set loaded now holds the same, in one load.
        let again = RevocationSet::new();
        assert_eq!(again.refresh(&reader).unwrap(), 3_002);
        assert_eq!(again.len(), 3_002);
    }
}
