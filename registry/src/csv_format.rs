//! The workers list as a CSV file (`examples/workers.csv`): UTF-8, a BOM accepted on import and
//! written on export (spreadsheets read accents right with it), `;`-separated, fields quoted only
//! when they must be (a `;`, a quote or a line break inside), lines ended by `\n`, and exactly
//! this header:
//!
//! `nom;autre_nom;prenom;autres_prenoms;nir;cle;date_naissance;fraction;categorie;metier;nuisance;type_contrat;quotite;caractere;domaine;secteur;numero_carte`
//!
//! Values are written as the form shows them (`12/03/1970`, `non classé`, `Non salarié`, `1.0`,
//! `1-Civile`), which is what the import reads back: export → import → export gives the same bytes.
//!
//! **Formulas.** A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (or a tab or a
//! carriage return) as a formula: `=HYPERLINK(…)`, `=cmd|' /C calc'!A0`.
//! As OWASP recommends, such a cell is written with a leading apostrophe, which spreadsheets read
//! as "this is text" and do not show: `'=HYPERLINK(…)`. So that the apostrophe we add can be told
//! from one typed by people, a value that itself starts with an apostrophe gets one too (`'t
//! Hooft` is written `''t Hooft`). The import drops exactly one leading apostrophe when the next
//! character is one of those (`=`, `+`, `-`, `@`, tab, CR or `'`), and takes every other value as
//! it is (`'t Hooft` typed in a file stays `'t Hooft`). The rule applies to every column: the
//! coded and numeric ones (`1.0`, `12/03/1970`, `C00000042`…) never start with those characters.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};

use ring::digest::{Context, SHA256};
use serde::Serialize;
use time::Date;

use crate::date;
use crate::worker::input::{self, Field, RawFraction, RawWorker};
use crate::worker::{ActivityCharacter, CardNumber, Category, Columns, ContractType, Worker};

/// The header line, without BOM or line end.
pub const CSV_HEADER: &str = "nom;autre_nom;prenom;autres_prenoms;nir;cle;date_naissance;fraction;categorie;metier;nuisance;type_contrat;quotite;caractere;domaine;secteur;numero_carte";

/// Two optional columns an imported file may add after [`CSV_HEADER`]'s: the sex and the
/// département of birth, checked against the NIR (issue 15 §1) and not stored, so that the
/// export keeps the documented header.
pub const CSV_IDENTITY_COLUMNS: &str = ";sexe;departement_naissance";

const COLUMNS: [Field; 17] = [
    Field::LastName,
    Field::OtherName,
    Field::FirstName,
    Field::OtherFirstNames,
    Field::Nir,
    Field::NirKey,
    Field::BirthDate,
    Field::Fraction,
    Field::Category,
    Field::Job,
    Field::RadiologicalHazard,
    Field::ContractType,
    Field::WorkFraction,
    Field::ActivityCharacter,
    Field::Domain,
    Field::Sector,
    Field::CardNumber,
];

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// First characters that make a spreadsheet read a cell as a formula, and the apostrophe that
/// marks a cell as text (see the module's doc).
fn needs_text_mark(value: &str) -> bool {
    value.starts_with(['=', '+', '-', '@', '\t', '\r', '\''])
}

/// A value as written in a cell: with a leading apostrophe when it could be read as a formula
/// or starts with an apostrophe itself.
pub(crate) fn to_cell(value: &str) -> std::borrow::Cow<'_, str> {
    if needs_text_mark(value) {
        format!("'{value}").into()
    } else {
        value.into()
    }
}

/// A cell as read back into a value: the one apostrophe [`to_cell`] adds dropped.
fn from_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_text_mark(rest) => rest,
        _ => cell,
    }
}

/// At most this many errors are listed in a report; the others are only counted.
const REPORT_MAX: usize = 1000;

/// One problem on one line of an import. The message never repeats the line's values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    /// Line in the file, the header being line 1.
    pub line: u64,
    /// The CSV column at fault, when one is.
    pub column: Option<&'static str>,
    /// What is wrong, in French.
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(column) => write!(f, "ligne {} : {} : {}", self.line, column, self.message),
            None => write!(f, "ligne {} : {}", self.line, self.message),
        }
    }
}

/// Why an import was refused, line by line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// The errors, in line order (the first [`REPORT_MAX`]).
    pub errors: Vec<LineError>,
    /// Errors found beyond those listed.
    pub more: u64,
    /// Lines with at least one error.
    #[serde(rename = "lines_in_error")]
    lines: u64,
    #[serde(skip)]
    last_line: u64,
}

impl ImportReport {
    pub(crate) fn push(&mut self, line: u64, column: Option<Field>, message: impl Into<String>) {
        if line != self.last_line {
            self.lines += 1;
            self.last_line = line;
        }
        if self.errors.len() < REPORT_MAX {
            self.errors.push(LineError {
                line,
                column: column.map(Field::csv),
                message: message.into(),
            });
        } else {
            self.more += 1;
        }
    }

    /// Adds problems found after the lines were read (a NIR seen twice is only known once the
    /// whole file is), sorted by line, on lines that had no problem yet. The list stays in line
    /// order and keeps the first [`REPORT_MAX`] errors of all.
    pub(crate) fn merge(&mut self, late: Vec<(u64, Option<Field>, String)>) {
        if late.is_empty() {
            return;
        }
        let mut lines = late.iter().map(|(line, _, _)| *line).collect::<Vec<_>>();
        lines.dedup();
        self.lines += lines.len() as u64;
        let total = self.errors.len() as u64 + self.more + late.len() as u64;
        let early = std::mem::take(&mut self.errors);
        let mut early = early.into_iter().peekable();
        let mut late = late
            .into_iter()
            .map(|(line, column, message)| LineError {
                line,
                column: column.map(Field::csv),
                message,
            })
            .peekable();
        while self.errors.len() < REPORT_MAX {
            let next = match (early.peek(), late.peek()) {
                (Some(e), Some(l)) if l.line < e.line => late.next(),
                (Some(_), _) => early.next(),
                (None, _) => late.next(),
            };
            let Some(next) = next else { break };
            self.errors.push(next);
        }
        self.more = total - self.errors.len() as u64;
        self.last_line = self.last_line.max(lines.last().copied().unwrap_or(0));
    }

    /// True when no line is in error.
    pub fn is_empty(&self) -> bool {
        self.lines == 0
    }

    /// How many lines have at least one error.
    pub fn lines_in_error(&self) -> u64 {
        self.lines
    }

    /// `"ligne 3"` → that line's messages, for the API's `fields`.
    pub fn by_line(&self) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = BTreeMap::new();
        for e in &self.errors {
            let text = match e.column {
                Some(c) => format!("{c} : {}", e.message),
                None => e.message.clone(),
            };
            out.entry(format!("ligne {}", e.line))
                .and_modify(|t| {
                    t.push_str(" ; ");
                    t.push_str(&text);
                })
                .or_insert(text);
        }
        out
    }
}

/// The report as text, one line per error.
impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.errors {
            writeln!(f, "{e}")?;
        }
        if self.more > 0 {
            writeln!(f, "… et {} autre(s) erreur(s).", self.more)?;
        }
        Ok(())
    }
}

/// What an accepted import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// Data lines read.
    pub lines: u64,
    /// Workers added to the list.
    pub created: u64,
    /// Workers already known (same NIR) whose line was replaced.
    pub updated: u64,
    /// Among the `updated`, those whose line was identical to what was stored (nothing written).
    pub unchanged: u64,
    /// Fractions the file named that did not exist yet.
    pub fractions_created: u64,
    /// SHA-256 of the file as received (hex), as written in the audit log.
    pub sha256: String,
}

/// Reads through, hashing what passes, so the audit log can name the exact file.
struct Hashing<R> {
    inner: R,
    digest: Context,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digest.update(&buf[..n]);
        Ok(n)
    }
}

/// A CSV file's data lines, each turned into a worker or the problems of its fields.
pub(crate) struct Reader<R: Read> {
    csv: csv::Reader<BufReader<Hashing<R>>>,
    record: csv::ByteRecord,
    today: Date,
    /// Whether the file has the two columns of [`CSV_IDENTITY_COLUMNS`].
    identity: bool,
}

/// One data line read.
pub(crate) enum Line {
    /// A valid worker, with what is stored beside.
    Worker(u64, Box<(Worker, Columns)>),
    /// The line's problems.
    Invalid(u64, Vec<(Option<Field>, String)>),
}

impl<R: Read> Reader<R> {
    /// Opens the file and checks its header; a wrong header is the report's only line.
    pub(crate) fn open(input: R, today: Date) -> io::Result<Result<Self, ImportReport>> {
        let hashing = Hashing {
            inner: input,
            digest: Context::new(&SHA256),
        };
        let mut buffered = BufReader::with_capacity(1 << 16, hashing);
        if buffered.fill_buf()?.starts_with(BOM) {
            buffered.consume(BOM.len());
        }
        let mut csv = csv::ReaderBuilder::new()
            .delimiter(b';')
            .has_headers(false)
            .flexible(true)
            .from_reader(buffered);
        let mut header = csv::ByteRecord::new();
        let mut report = ImportReport::default();
        let mut identity = false;
        match csv.read_byte_record(&mut header) {
            Ok(true) => {
                let fields: Vec<&[u8]> = header.iter().collect();
                let mut text = fields.join(&b';');
                if text.starts_with(BOM) {
                    text.drain(..BOM.len());
                }
                if text == CSV_HEADER.as_bytes() {
                    identity = false;
                } else if text == format!("{CSV_HEADER}{CSV_IDENTITY_COLUMNS}").as_bytes() {
                    identity = true;
                } else {
                    report.push(
                        1,
                        None,
                        format!("L'en-tête doit être exactement : {CSV_HEADER} (suivi, si vous le souhaitez, de {CSV_IDENTITY_COLUMNS})"),
                    );
                }
            }
            Ok(false) => report.push(1, None, "Le fichier est vide : il manque l'en-tête."),
            Err(e) => return Err(io_error(e)),
        }
        if !report.is_empty() {
            return Ok(Err(report));
        }
        Ok(Ok(Self {
            csv,
            record: csv::ByteRecord::new(),
            today,
            identity,
        }))
    }

    /// The next data line, `None` at the end of the file.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<Line>> {
        match self.csv.read_byte_record(&mut self.record) {
            Ok(false) => return Ok(None),
            Ok(true) => {}
            Err(e) => {
                if let csv::ErrorKind::Io(_) = e.kind() {
                    return Err(io_error(e));
                }
                // A quote left open swallows the rest of the file: report it where it starts.
                let line = e.position().map_or(0, |p| p.line());
                return Ok(Some(Line::Invalid(
                    line,
                    vec![(
                        None,
                        "Ligne illisible : un guillemet n'est pas refermé.".into(),
                    )],
                )));
            }
        }
        let line = self.record.position().map_or(0, |p| p.line());
        let columns = COLUMNS.len() + if self.identity { 2 } else { 0 };
        if self.record.len() != columns {
            return Ok(Some(Line::Invalid(
                line,
                vec![(
                    None,
                    format!(
                        "La ligne doit compter {} colonnes séparées par « ; » ({} trouvée(s)).",
                        columns,
                        self.record.len()
                    ),
                )],
            )));
        }
        let mut text: [&str; 19] = [""; 19];
        for (i, field) in self.record.iter().enumerate() {
            match std::str::from_utf8(field) {
                Ok(t) => text[i] = from_cell(t),
                Err(_) => {
                    return Ok(Some(Line::Invalid(
                        line,
                        vec![(
                            COLUMNS
                                .iter()
                                .chain(&[Field::Sex, Field::BirthDepartement])
                                .nth(i)
                                .copied(),
                            "Ce champ n'est pas encodé en UTF-8.".into(),
                        )],
                    )))
                }
            }
        }
        let raw = RawWorker {
            last_name: Some(text[0]),
            other_name: Some(text[1]),
            first_name: Some(text[2]),
            other_first_names: Some(text[3]),
            nir: Some(text[4]),
            nir_key: Some(text[5]),
            birth_date: Some(text[6]),
            fraction: Some(text[7]),
            category: Some(text[8]),
            job: Some(text[9]),
            radiological_hazard: Some(text[10]),
            contract_type: Some(text[11]),
            work_fraction: RawFraction::Text(text[12]),
            activity_character: Some(text[13]),
            domain: Some(text[14]),
            sector: Some(text[15]),
            card_number: Some(text[16]),
            sex: Some(text[17]),
            birth_departement: Some(text[18]),
        };
        Ok(Some(match input::validate(&raw, self.today) {
            Ok(w) => {
                let columns = Columns::of(&w);
                Line::Worker(line, Box::new((w, columns)))
            }
            Err(problems) => Line::Invalid(
                line,
                problems.into_iter().map(|(f, m)| (Some(f), m)).collect(),
            ),
        }))
    }

    /// Reads what is left (so the hash covers the whole file) and returns the SHA-256, hex.
    pub(crate) fn finish(self) -> io::Result<String> {
        let mut rest = self.csv.into_inner();
        io::copy(&mut rest, &mut io::sink())?;
        Ok(hex::encode(rest.into_inner().digest.finish()))
    }
}

fn io_error(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Writes the workers list: BOM, header, one line per worker.
pub(crate) struct Writer<W: Write> {
    csv: csv::Writer<W>,
}

impl<W: Write> Writer<W> {
    pub(crate) fn start(mut out: W) -> io::Result<Self> {
        out.write_all(BOM)?;
        let mut csv = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::Any(b'\n'))
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(out);
        csv.write_record(CSV_HEADER.split(';')).map_err(io_error)?;
        Ok(Self { csv })
    }

    pub(crate) fn write(&mut self, w: &Worker) -> io::Result<()> {
        let birth = w.birth_date.map(date::french);
        let fraction = w.work_fraction.map(|q| q.to_string());
        let fields: [&str; 17] = [
            &w.last_name,
            w.other_name.as_deref().unwrap_or(""),
            &w.first_name,
            w.other_first_names.as_deref().unwrap_or(""),
            w.nir.as_str(),
            w.nir.key(),
            birth.as_deref().unwrap_or(""),
            w.fraction.as_deref().unwrap_or(""),
            w.category.map_or("", Category::label),
            w.job.as_deref().unwrap_or(""),
            w.radiological_hazard.as_deref().unwrap_or(""),
            w.contract_type.map_or("", ContractType::label),
            fraction.as_deref().unwrap_or(""),
            w.activity_character.map_or("", ActivityCharacter::label),
            w.domain.as_deref().unwrap_or(""),
            w.sector.as_deref().unwrap_or(""),
            w.card_number.as_ref().map_or("", CardNumber::as_str),
        ];
        self.csv
            .write_record(fields.map(to_cell).iter().map(|c| c.as_bytes()))
            .map_err(io_error)
    }

    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.csv.flush()?;
        self.csv
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2025 - 06 - 30);

    fn lines(input: &str) -> (Vec<Worker>, ImportReport) {
        let mut reader = match Reader::open(input.as_bytes(), TODAY).unwrap() {
            Ok(r) => r,
            Err(report) => return (Vec::new(), report),
        };
        let (mut workers, mut report) = (Vec::new(), ImportReport::default());
        while let Some(line) = reader.next_line().unwrap() {
            match line {
                Line::Worker(_, w) => workers.push(w.0),
                Line::Invalid(n, problems) => {
                    for (f, m) in problems {
                        report.push(n, f, m);
                    }
                }
            }
        }
        (workers, report)
    }

    #[test]
    fn late_problems_merge_in_line_order_and_count_their_lines() {
        let mut report = ImportReport::default();
        report.push(3, Some(Field::LastName), "a");
        report.push(3, Some(Field::Category), "b");
        report.push(5, None, "c");
        report.merge(vec![
            (2, Some(Field::Nir), "d".into()),
            (4, Some(Field::CardNumber), "e".into()),
            (6, Some(Field::Nir), "f".into()),
            (6, Some(Field::CardNumber), "g".into()),
        ]);
        let order: Vec<(u64, &str)> = report
            .errors
            .iter()
            .map(|e| (e.line, e.message.as_str()))
            .collect();
        assert_eq!(
            order,
            [
                (2, "d"),
                (3, "a"),
                (3, "b"),
                (4, "e"),
                (5, "c"),
                (6, "f"),
                (6, "g")
            ]
        );
        assert_eq!(report.lines_in_error(), 5);
        assert_eq!(report.more, 0);
    }

    #[test]
    fn a_merge_keeps_the_first_errors_by_line_and_counts_the_rest() {
        let mut report = ImportReport::default();
        for line in 10..(10 + REPORT_MAX as u64 + 3) {
            report.push(line, None, "early");
        }
        assert_eq!((report.errors.len(), report.more), (REPORT_MAX, 3));
        report.merge(vec![
            (1, None, "late".into()),
            (100_000, None, "late".into()),
        ]);
        assert_eq!(report.errors.len(), REPORT_MAX);
        assert_eq!(
            (report.errors[0].line, report.errors[0].message.as_str()),
            (1, "late")
        );
        assert_eq!(report.errors[1].line, 10);
        // 1,003 early and 2 late errors, 1,000 listed.
        assert_eq!(report.more, 5);
        assert_eq!(report.lines_in_error(), REPORT_MAX as u64 + 5);
    }

    #[test]
    fn the_header_must_be_exactly_the_documented_one() {
        let (_, report) = lines("nom;prenom\n");
        assert_eq!(report.errors.len(), 1);
        assert_eq!(report.errors[0].line, 1);
        assert!(report.errors[0].message.contains(CSV_HEADER));
        let (_, report) = lines("");
        assert!(report.errors[0].message.contains("vide"));
    }

    #[test]
    fn a_line_with_the_wrong_number_of_columns_is_reported() {
        let input = format!("{CSV_HEADER}\nDIDIER;;Valérie\n");
        let (_, report) = lines(&input);
        assert_eq!(
            report.to_string(),
            "ligne 2 : La ligne doit compter 17 colonnes séparées par « ; » (3 trouvée(s)).\n"
        );
    }

    /// Excel-style payloads, each a value the fields accept.
    const FORMULAS: [&str; 8] = [
        "=cmd|' /C calc'!A0",
        "@SUM(1)",
        "=HYPERLINK(\"http://x\",\"y\")",
        "+1+1",
        "-2+3",
        "'=1+1",
        "''",
        "'quoted",
    ];

    fn export(workers: &[Worker]) -> String {
        let mut w = Writer::start(Vec::new()).unwrap();
        for worker in workers {
            w.write(worker).unwrap();
        }
        String::from_utf8(w.finish().unwrap()).unwrap()
    }

    #[test]
    fn formula_cells_are_exported_as_text_and_imported_back_to_the_same_values() {
        let mut workers = Vec::new();
        for (i, payload) in FORMULAS.iter().enumerate() {
            let quoted = payload.replace('"', "\"\"");
            let d = if i % 2 == 0 { "-dom" } else { "@dom" };
            // A fraction needs a searchable name: `''` alone has none.
            let fraction = if store::text::fold(payload).is_empty() {
                String::new()
            } else {
                format!("\"{quoted}\"")
            };
            let line = format!(
                "{CSV_HEADER}\n'-Ann'e;;Valérie;;2760912346445;12;;{fraction};;\"'{quoted}\";\"{quoted}\";;;;{d};'sect;\n",
            );
            let (read, report) = lines(&line);
            assert!(report.is_empty(), "{payload}: {report}");
            workers.extend(read);
        }
        let exported = export(&workers);
        for line in exported.lines().skip(1) {
            for cell in line.split(';') {
                let cell = cell.trim_start_matches('"');
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "a formula cell left as is: {line}"
                );
            }
        }
        let (again, report) = lines(exported.trim_start_matches('\u{feff}'));
        assert!(report.is_empty(), "{report}");
        assert_eq!(again, workers);
        assert_eq!(
            export(&again),
            exported,
            "export → import → export: same bytes"
        );
        assert_eq!(workers[0].radiological_hazard.as_deref(), Some(FORMULAS[0]));
        // Typed in a file, `''` is the mark and an apostrophe: the value is `'`.
        assert_eq!(workers[6].radiological_hazard.as_deref(), Some("'"));
        assert_eq!(workers[0].last_name, "-Ann'e", "the file's mark dropped");
    }

    #[test]
    fn an_apostrophe_typed_in_a_file_is_kept_unless_it_marks_a_formula_or_an_apostrophe() {
        assert_eq!(from_cell("'t Hooft"), "'t Hooft");
        assert_eq!(from_cell("'=1+1"), "=1+1");
        assert_eq!(from_cell("''t Hooft"), "'t Hooft");
        assert_eq!(from_cell("=1+1"), "=1+1");
        assert_eq!(to_cell("'t Hooft"), "''t Hooft");
        assert_eq!(to_cell("\t1"), "'\t1");
        assert_eq!(to_cell("Assistant dentaire"), "Assistant dentaire");
        for v in FORMULAS.iter().chain(&["'t Hooft", "x", "", "'"]) {
            assert_eq!(from_cell(&to_cell(v)), *v);
        }
    }

    /// A line of exactly [`LINE_MAX_BYTES`] passes and one byte more does not, wherever the
    /// reads cut it, its newline counted with neither.
    #[test]
    fn the_line_bound_holds_across_reads_of_any_size() {
        /// Gives at most `chunk` bytes per read.
        struct Chunked<'a>(&'a [u8], usize);
        impl Read for Chunked<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.1.min(buf.len()).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let file = |longest: usize| {
            let mut f = b"a\n".to_vec();
            f.extend(std::iter::repeat_n(b'x', longest));
            f.extend_from_slice(b"\r\n\nb");
            f
        };
        for chunk in [1, 7, 4096, 1 << 20] {
            let read = |f: &[u8]| {
                io::copy(&mut LineBound::new(Chunked(f, chunk)), &mut io::sink())
                    .map_err(|e| is_line_too_long(&e))
            };
            // The `\r` is the line's last byte.
            assert!(read(&file(LINE_MAX_BYTES - 1)).is_ok(), "{chunk}");
            assert_eq!(read(&file(LINE_MAX_BYTES)), Err(true), "{chunk}");
            // Without any newline at all.
            let endless = vec![b'y'; LINE_MAX_BYTES + 1];
            assert_eq!(read(&endless), Err(true), "{chunk}");
            assert!(read(&endless[1..]).is_ok(), "{chunk}");
        }
    }

    #[test]
    fn quoted_fields_may_hold_the_separator() {
        let input = format!(
            "{CSV_HEADER}\nDIDIER;;Valérie;;2760912346445;12;;;;\"Assistante; dentaire\";;;;;;;\n"
        );
        let (workers, report) = lines(&input);
        assert!(report.is_empty(), "{report}");
        assert_eq!(workers[0].job.as_deref(), Some("Assistante; dentaire"));
    }
}

/// Longest line of an imported file: a workers list's line is a few hundred bytes, so that a
/// file of one endless line is refused before it is held in memory.
pub const LINE_MAX_BYTES: usize = 64 * 1024;

/// Why the reading of an imported file stopped: a line longer than [`LINE_MAX_BYTES`].
#[derive(Debug, thiserror::Error)]
#[error("ligne de plus de {LINE_MAX_BYTES} octets")]
pub struct LineTooLong;

/// A reader that fails with [`LineTooLong`] as soon as a line grows past [`LINE_MAX_BYTES`]
/// (the csv crate has no such bound: it grows its record buffer to the line).
pub(crate) struct LineBound<R> {
    inner: R,
    since_newline: usize,
}

impl<R> LineBound<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            since_newline: 0,
        }
    }
}

impl<R: Read> Read for LineBound<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let read = &buf[..n];
        // Each run of bytes between two newlines is measured where it ends: `memchr` finds the
        // newlines a word at a time, where a loop looked at each byte (a million-line
        // transmission is some 130 MB).
        let too_long = || io::Error::new(io::ErrorKind::InvalidData, LineTooLong);
        let mut from = 0;
        for at in memchr::memchr_iter(b'\n', read) {
            if self.since_newline + (at - from) > LINE_MAX_BYTES {
                return Err(too_long());
            }
            self.since_newline = 0;
            from = at + 1;
        }
        self.since_newline += n - from;
        if self.since_newline > LINE_MAX_BYTES {
            return Err(too_long());
        }
        Ok(n)
    }
}

/// Whether the reading of an import stopped on [`LineTooLong`].
pub(crate) fn is_line_too_long(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<LineTooLong>())
}
