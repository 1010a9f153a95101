//! The exchange format of a transmission (`docs/transmissions.md`): a CSV file (`;`, UTF-8
//! with its BOM, this exact header) or its JSON Lines equivalent (one object per line, the
//! header's names as keys), read one line at a time as the file arrives, hashed as it goes.

use std::io::{self, BufRead, BufReader, Read};

use ring::digest::{Context, SHA256};

use crate::csv_format::LineBound;

/// The CSV header, without BOM or line end; the JSON keys are these names.
pub const TRANSMISSION_HEADER: &str = "siret;nir;cle;nom;prenom;date_naissance;type;debut;fin;unite;hp10;hp007;extremites;hp3;e;organe;h;radon_bqhm3;reference;remplace";

/// The columns, in order.
pub(crate) const COLUMNS: [&str; 20] = [
    "siret",
    "nir",
    "cle",
    "nom",
    "prenom",
    "date_naissance",
    "type",
    "debut",
    "fin",
    "unite",
    "hp10",
    "hp007",
    "extremites",
    "hp3",
    "e",
    "organe",
    "h",
    "radon_bqhm3",
    "reference",
    "remplace",
];

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Which of the two forms a file is in (from its `Content-Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransmissionFormat {
    /// `text/csv`.
    Csv,
    /// `application/json` or `application/x-ndjson`: JSON Lines.
    Json,
}

impl TransmissionFormat {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
        }
    }
}

/// One line of the file: its cells by column (empty when absent), or why it cannot be read.
pub(crate) enum RawLine {
    Cells(u64, Cells),
    Unreadable(u64, String),
}

/// A line's cells, decoded, in one string (one allocation per line, where a `Vec<String>` took
/// one per cell: at a million lines, the reading thread's main cost after SQLite). A line
/// without quotes is copied once and each cell is a span of it; a quoted cell is decoded onto
/// the end. No `Debug`: cells hold NIRs.
pub(crate) struct Cells {
    text: String,
    /// Where each of the first [`COLUMNS`]`.len()` cells starts and ends in `text` (a line is
    /// at most [`crate::csv_format::LINE_MAX_BYTES`]).
    spans: [(u32, u32); COLUMNS.len()],
    /// How many cells the line has (more than `spans` holds, for a line with too many).
    count: usize,
}

impl Cells {
    fn with_capacity(bytes: usize) -> Self {
        Self {
            text: String::with_capacity(bytes),
            spans: [(0, 0); COLUMNS.len()],
            count: 0,
        }
    }

    /// The cells of `cells`, in order.
    #[cfg(test)]
    pub(crate) fn of<'a>(cells: impl IntoIterator<Item = &'a str>) -> Self {
        let mut out = Self::with_capacity(0);
        for cell in cells {
            out.push(cell);
        }
        out
    }

    /// The cells of a line without quotes, each as [`from_cell`] takes it: the line copied
    /// once (one copy of a line, where one per cell took a fifth of the reading thread).
    fn split(line: &str) -> Self {
        let mut out = Self {
            text: line.to_owned(),
            spans: [(0, 0); COLUMNS.len()],
            count: 0,
        };
        let mut start = 0;
        for cell in line.split(';') {
            let end = start + cell.len();
            if let Some(span) = out.spans.get_mut(out.count) {
                // `from_cell` only takes a prefix away.
                *span = (offset(end - from_cell(cell).len()), offset(end));
            }
            out.count += 1;
            start = end + 1;
        }
        out
    }

    fn push(&mut self, cell: &str) {
        if let Some(span) = self.spans.get_mut(self.count) {
            let start = offset(self.text.len());
            self.text.push_str(cell);
            *span = (start, offset(self.text.len()));
        }
        self.count += 1;
    }

    /// How many cells the line has.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Cell `i`, empty when the line has fewer.
    pub(crate) fn get(&self, i: usize) -> &str {
        match self.spans.get(i) {
            Some(&(start, end)) if i < self.count => {
                self.text.get(start as usize..end as usize).unwrap_or("")
            }
            _ => "",
        }
    }
}

/// A place in a line's text (a line is far shorter than 4 GiB: `LineBound`); past it, a span
/// that reads as empty.
fn offset(at: usize) -> u32 {
    u32::try_from(at).unwrap_or(u32::MAX)
}

impl std::ops::Index<usize> for Cells {
    type Output = str;

    fn index(&self, i: usize) -> &str {
        self.get(i)
    }
}

/// Why a file was refused as a whole (nothing of it is recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileProblem {
    NoBom,
    Header,
    Empty,
    NotJsonLines,
}

impl FileProblem {
    pub(crate) fn message(&self) -> String {
        match self {
            Self::NoBom => "Le fichier CSV doit commencer par l'indicateur UTF-8 (BOM), comme l'enregistre « CSV UTF-8 » d'un tableur : sans lui, les accents des noms ne sont pas sûrs.".into(),
            Self::Header => format!("L'en-tête doit être exactement : {TRANSMISSION_HEADER}"),
            Self::Empty => "Le fichier est vide.".into(),
            Self::NotJsonLines => "Ce n'est pas un fichier JSON Lines : chaque ligne est un objet JSON, la première commence par « { ».".into(),
        }
    }
}

/// Reads through, hashing what passes.
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

/// A file's lines, one at a time.
pub(crate) struct LineReader<R: Read> {
    input: BufReader<Hashing<LineBound<R>>>,
    format: TransmissionFormat,
    /// The line number of the next line (the CSV header is line 1).
    next: u64,
    buf: Vec<u8>,
}

/// The cell as written, less the one apostrophe a spreadsheet export adds before a formula
/// (see `csv_format`).
fn from_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r', '\'']) => rest,
        _ => cell,
    }
}

impl<R: Read> LineReader<R> {
    /// Opens the file: a CSV file's BOM and header are checked here.
    pub(crate) fn open(
        input: R,
        format: TransmissionFormat,
    ) -> io::Result<Result<Self, FileProblem>> {
        let hashing = Hashing {
            inner: LineBound::new(input),
            digest: Context::new(&SHA256),
        };
        let mut reader = Self {
            input: BufReader::with_capacity(1 << 16, hashing),
            format,
            next: 1,
            buf: Vec::with_capacity(512),
        };
        if format == TransmissionFormat::Csv {
            let head = reader.input.fill_buf()?;
            if head.is_empty() {
                return Ok(Err(FileProblem::Empty));
            }
            if !head.starts_with(BOM) {
                return Ok(Err(FileProblem::NoBom));
            }
            reader.input.consume(BOM.len());
            match reader.raw_line()? {
                Some(h) if h == TRANSMISSION_HEADER.as_bytes() => {}
                Some(_) => return Ok(Err(FileProblem::Header)),
                None => return Ok(Err(FileProblem::Empty)),
            }
            reader.next = 2;
        } else {
            let head = reader.input.fill_buf()?;
            match head.iter().find(|b| !b.is_ascii_whitespace()) {
                None if head.is_empty() => return Ok(Err(FileProblem::Empty)),
                Some(b'{') | None => {}
                Some(_) => return Ok(Err(FileProblem::NotJsonLines)),
            }
        }
        Ok(Ok(reader))
    }

    /// The next line's bytes without its end (`\n` or `\r\n`); `None` at the end.
    fn raw_line(&mut self) -> io::Result<Option<&[u8]>> {
        self.buf.clear();
        if self.input.read_until(b'\n', &mut self.buf)? == 0 {
            return Ok(None);
        }
        if self.buf.ends_with(b"\n") {
            self.buf.pop();
            if self.buf.ends_with(b"\r") {
                self.buf.pop();
            }
        }
        Ok(Some(&self.buf))
    }

    /// The next line, `None` at the end of the file.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<RawLine>> {
        let n = self.next;
        let format = self.format;
        self.next += 1;
        let Some(bytes) = self.raw_line()? else {
            return Ok(None);
        };
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            // Counted, so that every line number the récépissé names is within its counts.
            return Ok(Some(RawLine::Unreadable(
                n,
                "Ligne vide : supprimez-la.".into(),
            )));
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Ok(Some(RawLine::Unreadable(
                n,
                "Ligne illisible : elle n'est pas encodée en UTF-8.".into(),
            )));
        };
        Ok(Some(match format {
            TransmissionFormat::Csv => csv_cells(n, text),
            TransmissionFormat::Json => json_cells(n, text),
        }))
    }

    /// Reads what is left (so the hash covers the whole file) and returns the SHA-256, hex.
    pub(crate) fn finish(mut self) -> io::Result<String> {
        io::copy(&mut self.input, &mut io::sink())?;
        Ok(hex::encode(self.input.into_inner().digest.finish()))
    }
}

/// A CSV line's cells: `;`-separated, a cell in double quotes may hold `;` and `""`.
fn csv_cells(n: u64, text: &str) -> RawLine {
    let cells = if !text.contains('"') {
        // Almost every line a program writes: no quotes, each cell as it stands.
        Cells::split(text)
    } else {
        let mut cells = Cells::with_capacity(text.len());
        let mut cell = String::new();
        let mut chars = text.chars().peekable();
        let mut quoted = false;
        let mut at_start = true;
        while let Some(c) = chars.next() {
            match c {
                '"' if at_start && !quoted => {
                    quoted = true;
                    at_start = false;
                }
                '"' if quoted => {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        cell.push('"');
                    } else {
                        quoted = false;
                    }
                }
                ';' if !quoted => {
                    cells.push(from_cell(&cell));
                    cell.clear();
                    at_start = true;
                }
                _ => {
                    cell.push(c);
                    at_start = false;
                }
            }
        }
        if quoted {
            return RawLine::Unreadable(
                n,
                "Ligne illisible : un guillemet n'est pas refermé.".into(),
            );
        }
        cells.push(from_cell(&cell));
        cells
    };
    if cells.len() != COLUMNS.len() {
        return RawLine::Unreadable(
            n,
            format!(
                "La ligne doit compter {} colonnes séparées par « ; » ({} trouvée(s)).",
                COLUMNS.len(),
                cells.len()
            ),
        );
    }
    RawLine::Cells(n, cells)
}

/// A JSON line's cells: an object whose keys are the header's names; numbers and strings
/// taken as their text, `null` or an absent key as an empty cell.
fn json_cells(n: u64, text: &str) -> RawLine {
    let unreadable = || {
        RawLine::Unreadable(
            n,
            "Ligne illisible : un objet JSON aux clés de l'en-tête est attendu.".into(),
        )
    };
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) else {
        return unreadable();
    };
    if map.keys().any(|k| !COLUMNS.contains(&k.as_str())) {
        return RawLine::Unreadable(n, "L'objet a une clé inconnue du format.".into());
    }
    let mut cells = Cells::with_capacity(text.len());
    for column in COLUMNS {
        match map.get(column) {
            None | Some(serde_json::Value::Null) => cells.push(""),
            Some(serde_json::Value::String(s)) => cells.push(s),
            Some(serde_json::Value::Number(x)) => cells.push(&x.to_string()),
            Some(_) => return unreadable(),
        }
    }
    RawLine::Cells(n, cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], format: TransmissionFormat) -> Result<Vec<RawLine>, FileProblem> {
        let mut r = LineReader::open(input, format).unwrap()?;
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push(l);
        }
        Ok(out)
    }

    #[test]
    fn a_csv_file_needs_its_bom_and_the_exact_header() {
        let body = format!("{TRANSMISSION_HEADER}\n");
        assert_eq!(
            lines(body.as_bytes(), TransmissionFormat::Csv).err(),
            Some(FileProblem::NoBom)
        );
        let wrong = b"\xEF\xBB\xBFsiret;nir\n";
        assert_eq!(
            lines(wrong, TransmissionFormat::Csv).err(),
            Some(FileProblem::Header)
        );
        let good = format!("\u{feff}{TRANSMISSION_HEADER}\r\n");
        assert!(lines(good.as_bytes(), TransmissionFormat::Csv)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn quoted_cells_and_formula_marks_are_read_back() {
        let line = format!(
            "\u{feff}{TRANSMISSION_HEADER}\n\"a;b\";'=1+1;\"x\"\"y\"{}\n",
            ";".repeat(17)
        );
        let got = lines(line.as_bytes(), TransmissionFormat::Csv).unwrap();
        let RawLine::Cells(2, cells) = &got[0] else {
            panic!("unreadable")
        };
        assert_eq!((&cells[0], &cells[1], &cells[2]), ("a;b", "=1+1", "x\"y"));
    }

    #[test]
    fn a_line_reads_the_same_with_or_without_quotes_and_counts_its_cells() {
        let plain = format!("a;'=b;c{}", ";x".repeat(17));
        let quoted = format!("\"a\";'=b;\"c\"{}", ";\"x\"".repeat(17));
        for text in [&plain, &quoted] {
            let RawLine::Cells(7, cells) = csv_cells(7, text) else {
                panic!("unreadable: {text}")
            };
            assert_eq!(cells.len(), 20);
            let got: Vec<&str> = (0..20).map(|i| cells.get(i)).collect();
            assert_eq!(&got[..4], ["a", "=b", "c", "x"], "{text}");
            assert!(got[3..].iter().all(|c| *c == "x"), "{text}");
            assert_eq!(cells.get(20), "");
        }
        for (text, count) in [
            (";".repeat(18), "19"),
            (";".repeat(20), "21"),
            (";".repeat(99), "100"),
        ] {
            let RawLine::Unreadable(7, why) = csv_cells(7, &text) else {
                panic!("read: {text}")
            };
            assert!(why.contains(&format!("({count} trouvée(s))")), "{why}");
        }
    }

    #[test]
    fn json_lines_take_numbers_and_strings_and_refuse_unknown_keys() {
        assert_eq!(
            lines(b"\x00\xffbinary", TransmissionFormat::Json).err(),
            Some(FileProblem::NotJsonLines)
        );
        let input = b"{\"siret\":\"1\",\"hp10\":0.25}\n\n{\"x\":1}\n[1]\n";
        let got = lines(input, TransmissionFormat::Json).unwrap();
        assert!(matches!(&got[0], RawLine::Cells(1, c) if &c[10] == "0.25" && &c[0] == "1"));
        assert!(matches!(&got[1], RawLine::Unreadable(2, m) if m.contains("vide")));
        assert!(matches!(&got[2], RawLine::Unreadable(3, _)));
        assert!(matches!(&got[3], RawLine::Unreadable(4, _)));
    }

    #[test]
    fn a_line_in_another_encoding_is_unreadable_not_fatal() {
        let mut input = format!("\u{feff}{TRANSMISSION_HEADER}\n").into_bytes();
        input.extend_from_slice(b"\xff\xfe;\n");
        let got = lines(&input, TransmissionFormat::Csv).unwrap();
        assert!(matches!(&got[0], RawLine::Unreadable(2, m) if m.contains("UTF-8")));
    }
}
