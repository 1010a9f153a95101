//! *Importer une liste*, *Exporter la liste*: the CSV file of `examples/workers.csv`.

#[path = "support.rs"]
mod support;

use registry::{RegistryError, WorkerQuery, WorkerView, CSV_HEADER};
use support::*;

fn export(env: &Env, establishment: i64) -> String {
    let who = registry::Principal::accessor(
        "42001",
        [(EST, registry::Role::Cse), (OTHER, registry::Role::Cse)],
    );
    let mut out = Vec::new();
    env.registry
        .export_workers(&who, establishment, &mut out)
        .expect("export_workers failed");
    String::from_utf8(out).expect("String::from_utf8 failed")
}

fn count(env: &Env) -> usize {
    let q = WorkerQuery {
        limit: 500,
        ..WorkerQuery::default()
    };
    env.registry
        .search_workers(&cse(), EST, &q)
        .expect("search_workers failed")
        .items
        .len()
}

fn rejected(error: RegistryError) -> registry::ImportReport {
    assert_eq!((error.status(), error.code()), (422, "import_rejected"));
    error.report().expect("report gave nothing").clone()
}

#[test]
fn the_seeds_file_with_its_bom_is_imported() {
    let env = env();
    assert!(SEED_CSV.starts_with('\u{feff}'));
    let summary = import(&env, SEED_CSV);
    assert_eq!((summary.lines, summary.created, summary.updated), (2, 2, 0));
    assert_eq!(summary.sha256.len(), 64);
    let page = env
        .registry
        .search_workers(&cse(), EST, &WorkerQuery::default())
        .unwrap();
    let WorkerView::Complete(durand) = &page.items[1] else {
        panic!()
    };
    let w = &durand.worker;
    assert_eq!(w.last_name, "DURAND");
    assert_eq!(
        w.birth_date.map(|d| d.to_string()).as_deref(),
        Some("1970-03-12")
    );
    assert_eq!(w.contract_type.map(|c| c.label()), Some("Non salarié"));
    assert_eq!(w.category.map(|c| c.label()), Some("B"));
}

#[test]
fn a_file_without_bom_is_imported_the_same() {
    let env = env();
    let plain = SEED_CSV.trim_start_matches('\u{feff}');
    let summary = import(&env, plain);
    assert_eq!(summary.created, 2);
    // Windows line ends too.
    let env2 = support::env();
    let crlf = plain.replace('\n', "\r\n");
    env2.registry
        .import_workers(&cse(), EST, crlf.as_bytes())
        .unwrap();
    assert_eq!(export(&env, EST), export(&env2, EST));
}

#[test]
fn any_bad_line_and_nothing_is_imported_with_a_report_per_line() {
    let env = env();
    let file = format!(
        "{CSV_HEADER}
DIDIER;;Valérie;;2760912346445;12;;;;Assistant dentaire;1-Exposition externe;CDI;1.0;1-Civile;;;
DUPONT;;Marc;;2951099126111;99;;;;;;;;;;;
;;Anne;;2550814168025;38;31/02/1955;;Z;;;CDX;1.5;3-Autre;;;
MARTIN;;Paul;;1700367482001;86;;;;;;;;;;
DURAND;;Vincent;;2760912346445;12;;;;;;;;;;;
"
    );
    let report = rejected(
        env.registry
            .import_workers(&cse(), EST, file.as_bytes())
            .unwrap_err(),
    );
    assert_eq!(count(&env), 0, "nothing imported");
    assert_eq!(report.lines_in_error(), 4);
    let text = report.to_string();
    assert!(text.contains(
        "ligne 3 : cle : La clé du NIR ne correspond pas au numéro : vérifiez le numéro et la clé.\n"
    ), "{text}");
    assert!(
        text.contains("ligne 4 : nom : Le nom de famille est obligatoire."),
        "{text}"
    );
    assert!(text.contains("ligne 4 : date_naissance :"), "{text}");
    assert!(text.contains("ligne 4 : categorie :"), "{text}");
    assert!(text.contains("ligne 4 : type_contrat :"), "{text}");
    assert!(text.contains("ligne 4 : quotite :"), "{text}");
    assert!(text.contains("ligne 4 : caractere :"), "{text}");
    assert!(
        text.contains("ligne 5 : La ligne doit compter 17 colonnes"),
        "{text}"
    );
    assert!(
        text.contains("ligne 6 : nir : Ce NIR figure déjà à la ligne 2."),
        "{text}"
    );
    // The report never repeats a NIR, nor any value of the file.
    for value in [
        "2951099126111",
        "2550814168025",
        "1700367482001",
        "2760912346445",
        "CDX",
        "3-Autre",
    ] {
        assert!(!text.contains(value), "{value} in {text}");
    }
    let fields = RegistryError::ImportRejected(report).fields().unwrap();
    assert!(fields["ligne 4"].contains("nom : "));
}

#[test]
fn a_wrong_header_is_refused_before_any_line() {
    let env = env();
    let file = "nom;prenom;nir\nDIDIER;Valérie;2760912346445\n";
    let report = rejected(
        env.registry
            .import_workers(&cse(), EST, file.as_bytes())
            .unwrap_err(),
    );
    assert_eq!(report.errors.len(), 1);
    assert!(report.errors[0]
        .to_string()
        .starts_with("ligne 1 : L'en-tête doit être exactement : nom;autre_nom;"));
}

#[test]
fn a_card_number_held_by_another_worker_rejects_the_file() {
    let env = env();
    let applied = apply(&env, &seed_worker());
    let card = applied.card_number.unwrap();
    let file = format!(
        "{CSV_HEADER}\nDURAND;;Vincent;;1700367482001;86;;;;;;;;;;;{card}\nMARTIN;;Paul;;2550814168025;38;;;;;;;;;;;\n"
    );
    let report = rejected(
        env.registry
            .import_workers(&cse(), EST, file.as_bytes())
            .unwrap_err(),
    );
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].line, 2);
    assert_eq!(report.errors[0].column, Some("numero_carte"));
    assert_eq!(count(&env), 1);
}

#[test]
fn an_import_replaces_the_lines_of_known_nirs_and_creates_fractions() {
    let env = env();
    let applied = apply(&env, &seed_worker());
    let file = format!(
        "{CSV_HEADER}
didier;;Valérie;;2760912346445;12;14/09/1976;Cabinet;A;Assistante dentaire;1-Exposition externe;CDD;0,5;1-Civile;;;
DURAND;;Vincent;;1700367482001;86;12/03/1970;cabinet;B;Chirurgien-dentiste;;Non salarié;1;1-Civile;;;C00000050
"
    );
    let summary = import(&env, &file);
    assert_eq!(
        (summary.created, summary.updated, summary.fractions_created),
        (1, 1, 1)
    );
    let WorkerView::Complete(didier) = env.registry.worker(&cse(), EST, applied.worker_id).unwrap()
    else {
        panic!()
    };
    assert_eq!(didier.worker.last_name, "didier");
    assert_eq!(didier.worker.work_fraction.unwrap().to_string(), "0.5");
    assert_eq!(
        didier.worker.card_number, applied.card_number,
        "an empty card number keeps the card"
    );
    let fractions = env.registry.fractions(&cse(), EST).unwrap();
    assert_eq!(fractions.len(), 1);
    assert_eq!(
        (fractions[0].name.as_str(), fractions[0].workers),
        ("Cabinet", 2)
    );
    // The sequence moved past the imported card number.
    let card = new_card(&env, worker("MARTIN", "Paul", "2550814168025", "38"));
    assert_eq!(card, "C00000051");
}

#[test]
fn export_then_import_gives_back_the_same_file() {
    let env = env();
    import(&env, SEED_CSV);
    let mut input = worker("D'ARC-LÉGER", "Jeanne", "253072A073004", "43");
    input.other_name = Some("Martin".into());
    input.other_first_names = Some("Marie, Louise".into());
    input.job = Some("Radiologue; \"interventionnel\"".into());
    input.category = Some("non classé".into());
    input.work_fraction = Some(0.333);
    input.activity_character = Some("2-Militaire".into());
    input.contract_type = Some("intérim".into());
    input.birth_date = Some("01/07/1953".into());
    input.new_card = true;
    create_fraction(&env, "Bloc Nord");
    input.fraction = Some("Bloc Nord".into());
    apply(&env, &input);

    let first = export(&env, EST);
    assert!(first.starts_with("\u{feff}nom;autre_nom;prenom;"));
    assert!(
        first.contains("\"Radiologue; \"\"interventionnel\"\"\""),
        "{first}"
    );
    assert!(first.contains(";non classé;"), "{first}");
    assert!(first.contains(";0.333;2-Militaire;"), "{first}");

    // Into an empty list of another establishment: the same file comes out.
    let other = registry::Principal::accessor("42001", [(OTHER, registry::Role::Cse)]);
    env.registry
        .import_workers(&other, OTHER, first.as_bytes())
        .unwrap();
    assert_eq!(export(&env, OTHER), first);
    // Into the same list: nothing changes.
    let summary = import(&env, &first);
    assert_eq!(
        (summary.created, summary.updated, summary.unchanged),
        (0, 3, 3),
        "nothing to write"
    );
    assert_eq!(export(&env, EST), first);
    // One line changed: only it is written.
    let changed = first.replacen(";Chirurgien-dentiste;", ";Orthodontiste;", 1);
    let summary = import(&env, &changed);
    assert_eq!((summary.updated, summary.unchanged), (3, 2));
    assert!(export(&env, EST).contains(";Orthodontiste;"));
}

#[test]
fn the_seeds_file_exports_back_byte_for_byte() {
    let env = env();
    import(&env, SEED_CSV);
    assert_eq!(export(&env, EST), SEED_CSV);
}

#[test]
fn a_pcr_may_neither_import_nor_export() {
    let env = env();
    assert!(matches!(
        env.registry
            .import_workers(&pcr(), EST, SEED_CSV.as_bytes()),
        Err(RegistryError::Forbidden { .. })
    ));
    assert!(matches!(
        env.registry.export_workers(&pcr(), EST, Vec::new()),
        Err(RegistryError::Forbidden { .. })
    ));
}

/// A reader that gives the header, then fails, as a client that stops sending.
struct Interrupted(bool);

impl std::io::Read for Interrupted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "gone",
            ));
        }
        self.0 = true;
        let head = format!("{CSV_HEADER}\nDIDIER;;Valérie;;2760912346445;12;;;;;;;;;;;\n");
        buf[..head.len()].copy_from_slice(head.as_bytes());
        Ok(head.len())
    }
}

#[test]
fn an_upload_cut_short_imports_nothing() {
    let env = env();
    let error = env
        .registry
        .import_workers(&cse(), EST, Interrupted(false))
        .unwrap_err();
    assert_eq!((error.status(), error.code()), (400, "import_interrupted"));
    assert_eq!(count(&env), 0);
}

/// Lines of the large imports below: past the 10,000 rows after which an import into an empty
/// list drops the indexes and builds them at the end.
const LARGE: u32 = 20_000;

/// The SQL of the workers table's indexes, as the schema holds it.
fn worker_indexes(env: &Env) -> Vec<String> {
    let conn = env.pool.get().expect("get failed");
    let mut stmt = conn
        .prepare(
            "SELECT sql FROM sqlite_schema
             WHERE type = 'index' AND tbl_name = 'registry_workers' AND sql IS NOT NULL
             ORDER BY name",
        )
        .expect("prepare failed");
    let rows = stmt.query_map([], |r| r.get(0)).expect("query_map failed");
    rows.collect::<rusqlite::Result<_>>().expect("a row failed")
}

fn rows_of(env: &Env, establishment: i64) -> i64 {
    let conn = env.pool.get().expect("get failed");
    conn.query_row(
        "SELECT count(*) FROM registry_workers WHERE establishment_id = ?1",
        [establishment],
        |r| r.get(0),
    )
    .expect("query_row failed")
}

/// How full the leaf pages of an index are: near 1 when it was built from sorted keys, less
/// when its keys came in the file's order, page splits leaving pages part empty.
fn leaf_fill(env: &Env, index: &str) -> f64 {
    let conn = env.pool.get().expect("get failed");
    conn.query_row(
        "SELECT sum(pgsize - unused) * 1.0 / sum(pgsize) FROM dbstat
         WHERE name = ?1 AND pagetype = 'leaf'",
        [index],
        |r| r.get(0),
    )
    .expect("query_row failed")
}

#[test]
fn a_large_list_into_an_empty_one_gets_its_indexes_built_after_the_rows() {
    let env = env();
    let indexes = worker_indexes(&env);
    // The list's five and the one to its persons (migration 0005).
    assert_eq!(indexes.len(), 6, "{indexes:?}");
    let summary = env
        .registry
        .import_workers(&cse(), EST, large_file(LARGE).as_bytes())
        .unwrap();
    assert_eq!(summary.created, u64::from(LARGE));
    assert_eq!(rows_of(&env, EST), i64::from(LARGE));
    assert_eq!(
        worker_indexes(&env),
        indexes,
        "the same indexes, built back"
    );
    let built = leaf_fill(&env, "registry_workers_nir");
    assert!(built > 0.99, "NIR index built from sorted keys: {built}");

    // The same list into another establishment: the table now holds more rows than the file,
    // so the indexes are kept up to date line by line.
    env.registry
        .import_workers(&cse_of_both(), OTHER, large_file(LARGE).as_bytes())
        .unwrap();
    assert_eq!(rows_of(&env, OTHER), i64::from(LARGE));
    let fill = leaf_fill(&env, "registry_workers_nir");
    assert!(fill < built - 0.02, "NIR index split as rows came: {fill}");

    // The unique indexes hold: a NIR of the list cannot be written again, be it by SQL.
    let number = nir_number(LARGE - 1);
    let conn = env.pool.get().unwrap();
    let error = conn
        .execute(
            "INSERT INTO registry_workers (establishment_id, nir, nir_key, last_name, first_name,
                 search_name, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'NOUVEAU', 'Paul', 'NOUVEAU PAUL', 'x', 'x')",
            rusqlite::params![EST, number, key_of(&number)],
        )
        .unwrap_err();
    assert!(
        error.to_string().contains("registry_workers.nir"),
        "{error}"
    );
}

fn cse_of_both() -> registry::Principal {
    registry::Principal::accessor(
        "42001",
        [(EST, registry::Role::Cse), (OTHER, registry::Role::Cse)],
    )
}

#[test]
fn repeats_after_the_indexes_are_dropped_reject_the_file_and_keep_the_indexes() {
    let env = env();
    let indexes = worker_indexes(&env);
    let mut file = large_file(LARGE);
    // Line 2 (the first worker) has C00000001; line 16,002 repeats its NIR, line 16,003 its card.
    let first = nir_number(0);
    let tail = |last: &str, number: &str, card: &str| {
        format!(
            "{last};;Paul;;{number};{};;;;;;;;;;;{card}\n",
            key_of(number)
        )
    };
    let lines: Vec<&str> = file.lines().collect();
    let (head, rest) = lines.split_at(16_001);
    let other = nir_number(LARGE + 10);
    let mut edited = head.join("\n");
    edited.push('\n');
    edited.push_str(&tail("REPETE", &first, ""));
    edited.push_str(&tail("CARTE", &other, "C00000001"));
    edited.push_str(&rest.join("\n"));
    edited.push('\n');
    file = edited;

    let report = rejected(
        env.registry
            .import_workers(&cse(), EST, file.as_bytes())
            .unwrap_err(),
    );
    let text = report.to_string();
    assert_eq!(report.lines_in_error(), 2, "{text}");
    assert_eq!(
        text,
        "ligne 16002 : nir : Ce NIR figure déjà à la ligne 2.\n\
         ligne 16003 : numero_carte : Ce numéro de carte figure déjà à la ligne 2.\n"
    );
    assert_eq!(rows_of(&env, EST), 0, "nothing imported");
    assert_eq!(worker_indexes(&env), indexes, "the indexes are back");
}

/// A file of one endless line, made on the fly: nothing of it is ever held whole.
struct EndlessLine {
    header: std::io::Cursor<Vec<u8>>,
    left: u64,
}

impl std::io::Read for EndlessLine {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.header.read(buf)?;
        if n > 0 || self.left == 0 {
            return Ok(n);
        }
        let n = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        buf[..n].fill(b'A');
        self.left -= n as u64;
        Ok(n)
    }
}

#[test]
fn a_300_mb_line_is_refused_before_it_is_read_whole_and_nothing_is_imported() {
    let env = env();
    let reader = EndlessLine {
        header: std::io::Cursor::new(format!("{CSV_HEADER}\n").into_bytes()),
        left: 300 * 1024 * 1024,
    };
    let refused = env.registry.import_workers(&cse(), EST, reader);
    assert!(
        matches!(refused, Err(RegistryError::ImportLineTooLong)),
        "{refused:?}"
    );
    let listed = env
        .registry
        .search_workers(&cse(), EST, &WorkerQuery::default())
        .expect("list");
    assert!(listed.items.is_empty());
}

#[test]
fn a_file_may_declare_sex_and_departement_of_birth_checked_against_the_nir() {
    let env = env();
    let header = format!("{CSV_HEADER}{}", registry::CSV_IDENTITY_COLUMNS);
    // DIDIER's NIR: a woman born in the Aveyron (12); DURAND's: a man born in the Bas-Rhin (67).
    let bad = format!(
        "{header}
DIDIER;;Valérie;;2760912346445;12;;;;;;;;;;;;M;12
DURAND;;Vincent;;1700367482001;86;12/03/1970;;;;;;;;;;;M;75
DUPONT;;Luc;;1700367482001;86;;;;;;;;;;;
"
    );
    let report = rejected(
        env.registry
            .import_workers(&cse(), EST, bad.as_bytes())
            .unwrap_err(),
    );
    assert_eq!(count(&env), 0, "nothing imported");
    let text = report.to_string();
    assert!(
        text.contains(
            "ligne 2 : sexe : Le sexe déclaré ne correspond pas au premier chiffre du NIR"
        ),
        "{text}"
    );
    assert!(
        text.contains("ligne 3 : departement_naissance : Le département de naissance déclaré ne correspond pas"),
        "{text}"
    );
    assert!(
        text.contains("ligne 4 : La ligne doit compter 19 colonnes"),
        "{text}"
    );
    let good = format!(
        "{header}
DIDIER;;Valérie;;2760912346445;12;;;;;;;;;;;;F;12
DURAND;;Vincent;;1700367482001;86;12/03/1970;;;;;;;;;;;;
"
    );
    let summary = import(&env, &good);
    assert_eq!(summary.created, 2);
    // The export keeps the documented header.
    assert!(export(&env, EST)
        .trim_start_matches('\u{feff}')
        .starts_with(&format!("{CSV_HEADER}\n")));
}
