//! The CA's schema, applied by the binary at start-up (after `store`'s).

use store::migrate::Migration;

/// The CA's own migrations (certificates, CRLs, CRL shards, OCSP responses signed ahead). Step 2 created the audit log, which now
/// belongs to `store` (its component's step 1); it is kept out of this list so that a new
/// database gets the table once, from `store`.
pub const MIGRATIONS: &[Migration] = store::migrations![
    1 => "0001_certificates.sql",
    3 => "0003_revoked_at.sql",
    4 => "0004_revocation_seq.sql",
    5 => "0005_revocation_seq_lookup.sql",
    6 => "0006_crl_covers_index.sql",
    8 => "0008_crl_shards.sql",
    9 => "0009_ocsp_responses.sql",
    10 => "0010_operator_profile.sql",
    12 => "0012_receipt_profile.sql",
];

/// Brings `conn` to the CA's schema: `store`'s steps (the audit log), then the CA's own.
/// What a database needs before the CA uses it; the binary applies every component the same way.
pub fn apply(conn: &mut rusqlite::Connection) -> store::Result<usize> {
    Ok(
        store::migrate::apply(conn, "store", store::migrate::MIGRATIONS)?
            + store::migrate::apply(conn, "ca", MIGRATIONS)?,
    )
}

#[cfg(test)]
mod tests {
    use rusqlite::{params, Connection};

    use super::MIGRATIONS;

    fn insert(conn: &Connection, serial: u8, profile: &str, status: &str) -> rusqlite::Result<()> {
        let revoked = status == "revoked";
        conn.execute(
            "INSERT INTO ca_certificates (serial, serial_hex, profile, subject, requester,
                 key_description, tbs, der, status, not_before, not_after, created_at,
                 revoked_at, revocation_reason, crl_shard)
             VALUES (?1, ?2, ?3, 'CN=x', 'test', 'p256', x'30', x'30', ?4, 0, 100, 0, ?5, ?6, 3)",
            params![
                vec![serial],
                format!("{serial:02X}"),
                profile,
                status,
                revoked.then_some(10),
                revoked.then_some("keyCompromise")
            ],
        )?;
        Ok(())
    }

    #[test]
    fn the_operator_profile_step_keeps_every_row_index_and_trigger() {
        let mut conn = Connection::open_in_memory().unwrap();
        store::migrate::apply(&mut conn, "store", store::migrate::MIGRATIONS).unwrap();
        let before_operator = MIGRATIONS.iter().position(|m| m.version == 10).unwrap();
        store::migrate::apply(&mut conn, "ca", &MIGRATIONS[..before_operator]).unwrap();
        insert(&conn, 1, "person", "issued").unwrap();
        insert(&conn, 2, "person", "revoked").unwrap();
        assert!(
            insert(&conn, 3, "operator", "issued").is_err(),
            "refused before"
        );
        let indexes = |conn: &Connection| -> Vec<String> {
            let mut stmt = conn
                .prepare(
                    "SELECT name FROM sqlite_master WHERE tbl_name = 'ca_certificates'
                     AND type IN ('index', 'trigger') AND name NOT LIKE 'sqlite_%' ORDER BY name",
                )
                .unwrap();
            stmt.query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let before = indexes(&conn);
        assert_eq!(
            store::migrate::apply(&mut conn, "ca", MIGRATIONS).unwrap(),
            MIGRATIONS.len() - before_operator
        );
        assert_eq!(indexes(&conn), before, "indexes and triggers made again");
        insert(&conn, 3, "operator", "issued").unwrap();
        let rows: Vec<(String, Option<i64>, Option<i64>)> = {
            let mut stmt = conn
                .prepare(
                    "SELECT status, revocation_seq, crl_shard FROM ca_certificates ORDER BY serial",
                )
                .unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        assert_eq!(
            rows,
            vec![
                ("issued".into(), None, Some(3)),
                ("revoked".into(), Some(1), Some(3)),
                ("issued".into(), None, Some(3)),
            ]
        );
        // The revocation trigger still numbers revocations.
        conn.execute(
            "UPDATE ca_certificates SET status = 'revoked', revoked_at = 20,
                 revocation_reason = 'privilegeWithdrawn' WHERE serial = x'03'",
            [],
        )
        .unwrap();
        let seq: i64 = conn
            .query_row(
                "SELECT revocation_seq FROM ca_certificates WHERE serial = x'03'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(seq, 2);
    }

    #[test]
    fn the_receipt_profile_step_admits_receipt_certificates_and_keeps_the_rows() {
        let mut conn = Connection::open_in_memory().unwrap();
        store::migrate::apply(&mut conn, "store", store::migrate::MIGRATIONS).unwrap();
        let before_receipt = MIGRATIONS.iter().position(|m| m.version == 12).unwrap();
        store::migrate::apply(&mut conn, "ca", &MIGRATIONS[..before_receipt]).unwrap();
        insert(&conn, 1, "operator", "issued").unwrap();
        insert(&conn, 2, "person", "revoked").unwrap();
        assert!(
            insert(&conn, 3, "receipt", "issued").is_err(),
            "refused before"
        );
        assert_eq!(
            store::migrate::apply(&mut conn, "ca", MIGRATIONS).unwrap(),
            1
        );
        insert(&conn, 3, "receipt", "issued").unwrap();
        assert!(insert(&conn, 4, "stamp", "issued").is_err(), "still closed");
        let rows: Vec<(String, String, Option<i64>)> = {
            let mut stmt = conn
                .prepare(
                    "SELECT profile, status, revocation_seq FROM ca_certificates ORDER BY serial",
                )
                .unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        assert_eq!(
            rows,
            vec![
                ("operator".into(), "issued".into(), None),
                ("person".into(), "revoked".into(), Some(1)),
                ("receipt".into(), "issued".into(), None),
            ]
        );
    }
}
