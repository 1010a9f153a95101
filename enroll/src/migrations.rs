//! The enrollment component's schema, applied by the binary at start-up.

use store::migrate::Migration;

/// `enroll`'s migrations, in order.
pub const MIGRATIONS: &[Migration] = store::migrations![
    1 => "0001_protocols.sql",
    2 => "0002_outbox.sql",
    3 => "0003_accessors.sql",
    4 => "0004_annexe_pdfs.sql",
    5 => "0005_refold_match_keys.sql" then crate::access::refold_match_keys,
    6 => "0006_documents_by_content.sql",
    7 => "0007_operators.sql",
    8 => "0008_four_eyes.sql",
];

#[cfg(test)]
mod tests {
    use rusqlite::{params, Connection};

    use super::MIGRATIONS;

    fn key(conn: &Connection, hab: u32) -> Option<String> {
        conn.query_row(
            "SELECT match_key FROM enroll_accessors WHERE habilitation = ?1",
            params![hab],
            |r| r.get(0),
        )
        .unwrap()
    }

    #[test]
    fn match_keys_of_the_old_folding_are_remade_once_and_collisions_kept_apart() {
        let mut conn = Connection::open_in_memory().unwrap();
        store::migrate::apply(&mut conn, "store", store::migrate::MIGRATIONS).unwrap();
        store::migrate::apply(&mut conn, "enroll", &MIGRATIONS[..4]).unwrap();
        // Keys as the old folding made them: ñ and œ left alone (and lower case), decomposed
        // accents kept, hyphens kept.
        for (hab, last, first, old_key) in [
            (42000, "Muñoz", "Hélène", Some("MUñOZ|HELENE|02/02/1982|54")),
            (
                42001,
                "Cœur",
                "Anne-Marie",
                Some("CœUR|ANNE-MARIE|03/03/1983|2A"),
            ),
            (42002, "MUNOZ", "Helene", Some("MUNOZ|HELENE|02/02/1982|54")),
            (
                42003,
                "DURAND",
                "Vincent",
                Some("DURAND|VINCENT|12/03/1970|67"),
            ),
            (
                42004,
                "Le\u{301}ger",
                "Zoé",
                Some("LE\u{301}GER|ZOE|04/04/1984|75"),
            ),
            (42005, "SANS", "Clé", None),
        ] {
            conn.execute(
                "INSERT INTO enroll_accessors (habilitation, last_name, first_name, match_key,
                     email, created_at)
                 VALUES (?1, ?2, ?3, ?4, 'x@example.org', 0)",
                params![hab, last, first, old_key],
            )
            .unwrap();
        }
        // 0005 and 0006.
        assert_eq!(
            store::migrate::apply(&mut conn, "enroll", &MIGRATIONS[..6]).unwrap(),
            2
        );
        assert_eq!(
            key(&conn, 42000).as_deref(),
            Some("MUNOZ|HELENE|02/02/1982|54")
        );
        assert_eq!(
            key(&conn, 42001).as_deref(),
            Some("COEUR|ANNE MARIE|03/03/1983|2A")
        );
        // The same key as 42000 once refolded: kept as a person of its own, not findable by
        // name and birth any more, never merged.
        assert_eq!(key(&conn, 42002), None);
        assert_eq!(
            key(&conn, 42003).as_deref(),
            Some("DURAND|VINCENT|12/03/1970|67")
        );
        assert_eq!(
            key(&conn, 42004).as_deref(),
            Some("LEGER|ZOE|04/04/1984|75")
        );
        assert_eq!(key(&conn, 42005), None);
        let people: i64 = conn
            .query_row("SELECT COUNT(*) FROM enroll_accessors", [], |r| r.get(0))
            .unwrap();
        assert_eq!(people, 6);
        // Recorded: not run again.
        conn.execute(
            "UPDATE enroll_accessors SET match_key = 'X|Y|Z|W' WHERE habilitation = 42003",
            [],
        )
        .unwrap();
        assert_eq!(
            store::migrate::apply(&mut conn, "enroll", &MIGRATIONS[..6]).unwrap(),
            0
        );
        assert_eq!(key(&conn, 42003).as_deref(), Some("X|Y|Z|W"));
    }
}
