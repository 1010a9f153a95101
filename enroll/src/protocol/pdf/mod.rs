//! *Annexe 1* as a printable A4 PDF: the copy the legal representative keeps after signing.
//!
//! The page is drawn with three of the standard 14 PDF fonts (Helvetica, Helvetica-Bold and
//! Courier for the fingerprint), which every reader has, so nothing is embedded. Text is encoded
//! in WinAnsiEncoding (Windows-1252), which holds every character French needs, so `pdftotext`
//! and copy-paste give the accents back. The output depends only on the inputs: no clock, no
//! random file identifier.

mod text;

use pdf_writer::{Content, Date, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use ring::digest::{Context, SHA256};
use time::{OffsetDateTime, UtcOffset};

use super::annexe::{Annexe, ACCEPTANCE};
use text::{winansi, wrap, Font};

/// What the signature proves, printed under the document.
#[derive(Debug, Clone)]
pub struct SignatureEvidence {
    /// The protocol's number.
    pub protocol_number: String,
    /// The company's key name (*nom clé*).
    pub key_name: String,
    /// Version of the protocol: 1, then one more at each renewal.
    pub version: u32,
    /// When the SMS code was typed (printed in UTC).
    pub signed_at: OffsetDateTime,
    /// SHA-256 of the canonical text ([`Annexe::sha256`]), hex.
    pub document_sha256: String,
    /// The legal representative's mobile, masked: where the code was sent.
    pub phone_masked: String,
}

const TITLE: &str = "ANNEXE 1 AU PROTOCOLE D'ACCÈS SÉCURISÉ À SISERI";
const SUBTITLE: &str = "IDENTIFICATION DE L'EMPLOYEUR ET DE SES ACCÉDANTS AU SYSTÈME SISERI";

// A4 in points; 2 cm side margins.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 56.69;
const WIDTH: f32 = PAGE_W - 2.0 * MARGIN;
/// Top of the text area.
const TOP: f32 = PAGE_H - 44.0;
/// Nothing of the body goes below this line: the footer lives under it.
const BOTTOM: f32 = 58.0;

const BODY: f32 = 9.0;
const LEADING: f32 = 11.0;
const BAND: f32 = 15.0;
/// Text inset from the margin, inside sections.
const INSET: f32 = 6.0;

type Rgb = (f32, f32, f32);
const NAVY: Rgb = (0.05, 0.2, 0.42);
const INK: Rgb = (0.1, 0.1, 0.1);
const GREY: Rgb = (0.4, 0.4, 0.4);
const BAND_FILL: Rgb = (0.9, 0.93, 0.97);

/// Renders the signed *Annexe 1* as a PDF document.
pub fn annexe_pdf(annexe: &Annexe, evidence: &SignatureEvidence) -> Vec<u8> {
    let mut w = Writer::new(evidence);
    w.first_header();
    for section in &annexe.sections {
        w.section(&section.title);
        // An entry is a line and the indented lines under it (a person and their address):
        // it is kept on one page, and a little air separates the people of a list.
        let mut entry: Vec<(f32, Vec<u8>)> = Vec::new();
        let mut gap = 0.0;
        for line in &section.lines {
            if !line.starts_with(' ') && !entry.is_empty() {
                w.rows(std::mem::take(&mut entry), gap);
                gap = if line.starts_with("- ") { 3.0 } else { 0.0 };
            }
            entry.extend(layout_line(line));
        }
        w.rows(entry, gap);
        w.end_section();
    }
    w.closing();
    finish(w.pages, annexe, evidence)
}

/// One `label : value` line of a section, wrapped with a hanging indent: x from the margin, text.
fn layout_line(text: &str) -> Vec<(f32, Vec<u8>)> {
    let bytes = winansi(text);
    let spaces = bytes.iter().take_while(|&&b| b == b' ').count();
    let body = &bytes[spaces..];
    let indent = INSET + 7.0 * spaces as f32;
    let room = WIDTH - indent - INSET;
    let font = Font::Regular;
    // Continuation lines line up after the bullet, or after a short label.
    let hang = if body.starts_with(b"- ") {
        font.width(b"- ", BODY)
    } else {
        body.windows(3)
            .position(|w| w == b" : ")
            .map(|i| font.width(&body[..i + 3], BODY))
            .filter(|w| *w < room * 0.4)
            .unwrap_or(0.0)
    };
    wrap(body, font, BODY, room, room - hang)
        .into_iter()
        .enumerate()
        .map(|(i, l)| (indent + if i == 0 { 0.0 } else { hang }, l))
        .collect()
}

fn show(c: &mut Content, font: Font, size: f32, color: Rgb, x: f32, y: f32, text: &[u8]) {
    c.set_fill_rgb(color.0, color.1, color.2);
    c.begin_text();
    c.set_font(font.resource(), size);
    c.next_line(x, y);
    c.show(Str(text));
    c.end_text();
}

fn rule(c: &mut Content, y: f32, width: f32, color: Rgb) {
    c.set_stroke_rgb(color.0, color.1, color.2);
    c.set_line_width(width);
    c.move_to(MARGIN, y);
    c.line_to(PAGE_W - MARGIN, y);
    c.stroke();
}

/// "29/11/2026 à 10:42 UTC".
fn signed_on(at: OffsetDateTime) -> String {
    let t = at.checked_to_offset(UtcOffset::UTC).unwrap_or(at);
    format!(
        "{:02}/{:02}/{:04} à {:02}:{:02} UTC",
        t.day(),
        u8::from(t.month()),
        t.year(),
        t.hour(),
        t.minute()
    )
}

/// Lays the body out page after page; the footers are added once the page count is known.
struct Writer<'a> {
    evidence: &'a SignatureEvidence,
    pages: Vec<Content>,
    /// Baseline of the next line.
    y: f32,
    /// The open section, repeated as "(suite)" at the top of a new page.
    section: Option<String>,
}

impl<'a> Writer<'a> {
    fn new(evidence: &'a SignatureEvidence) -> Self {
        Self {
            evidence,
            pages: vec![Content::new()],
            y: TOP,
            section: None,
        }
    }

    fn page(&mut self) -> &mut Content {
        if self.pages.is_empty() {
            self.pages.push(Content::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Logo-like masthead, the protocol's references and the two title lines.
    fn first_header(&mut self) {
        let e = self.evidence;
        let top = self.y;
        let c = self.page();
        show(c, Font::Bold, 20.0, NAVY, MARGIN, top - 16.0, b"SISERI");
        for (i, l) in [
            "Système d'information de la surveillance",
            "de l'exposition aux rayonnements ionisants",
        ]
        .iter()
        .enumerate()
        {
            let y = top - 28.0 - 9.0 * i as f32;
            show(c, Font::Regular, 7.5, GREY, MARGIN, y, &winansi(l));
        }
        let right = [
            (
                Font::Regular,
                7.5,
                GREY,
                "PASS — protocole d'accès sécurisé".to_owned(),
            ),
            (
                Font::Bold,
                9.0,
                INK,
                format!("Protocole n° {}", e.protocol_number),
            ),
            (Font::Regular, 9.0, INK, format!("Version {}", e.version)),
        ];
        for (i, (font, size, color, text)) in right.iter().enumerate() {
            let bytes = winansi(text);
            let x = PAGE_W - MARGIN - font.width(&bytes, *size);
            show(
                c,
                *font,
                *size,
                *color,
                x,
                top - 10.0 - 11.0 * i as f32,
                &bytes,
            );
        }
        rule(c, top - 42.0, 1.2, NAVY);
        let mut y = top - 60.0;
        for (text, size, gap) in [(TITLE, 13.5, 17.0), (SUBTITLE, 10.0, 13.0)] {
            for l in wrap(&winansi(text), Font::Bold, size, WIDTH, WIDTH) {
                let x = MARGIN + (WIDTH - Font::Bold.width(&l, size)) / 2.0;
                show(c, Font::Bold, size, NAVY, x, y, &l);
                y -= gap;
            }
        }
        rule(c, y + 3.0, 0.5, GREY);
        self.y = y - 4.0;
    }

    /// Starts a page, with the running header from page 2 on.
    fn new_page(&mut self) {
        let number = format!("Protocole n° {}", self.evidence.protocol_number);
        let mut c = Content::new();
        let title = winansi(TITLE);
        show(&mut c, Font::Bold, 8.0, NAVY, MARGIN, TOP - 8.0, &title);
        let number = winansi(&number);
        let x = PAGE_W - MARGIN - Font::Regular.width(&number, 8.0);
        show(&mut c, Font::Regular, 8.0, GREY, x, TOP - 8.0, &number);
        rule(&mut c, TOP - 14.0, 0.5, GREY);
        self.pages.push(c);
        self.y = TOP - 32.0;
        if let Some(title) = self.section.clone() {
            self.band(&format!("{title} (suite)"));
        }
    }

    /// Makes room for `height` points of body, on a new page if needed.
    fn room(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.new_page();
        }
    }

    /// A shaded heading band; its top is at the current position.
    fn band(&mut self, title: &str) {
        let top = self.y + LEADING - BODY;
        let c = self.page();
        c.set_fill_rgb(BAND_FILL.0, BAND_FILL.1, BAND_FILL.2);
        c.rect(MARGIN, top - BAND, WIDTH, BAND);
        c.fill_nonzero();
        c.set_fill_rgb(NAVY.0, NAVY.1, NAVY.2);
        c.rect(MARGIN, top - BAND, 2.5, BAND);
        c.fill_nonzero();
        let text = winansi(title);
        show(
            c,
            Font::Bold,
            BODY,
            NAVY,
            MARGIN + INSET + 2.0,
            top - BAND + 5.5,
            &text,
        );
        self.y = top - BAND - LEADING + 1.0;
    }

    fn section(&mut self, title: &str) {
        self.section = None;
        self.y -= 6.0;
        // The heading never stays alone at the bottom of a page.
        self.room(BAND + 2.0 * LEADING);
        self.band(title);
        self.section = Some(title.to_owned());
    }

    fn end_section(&mut self) {
        self.section = None;
    }

    /// Draws `rows` (x from the margin, text) `gap` points lower, on one page when they fit.
    fn rows(&mut self, rows: Vec<(f32, Vec<u8>)>, gap: f32) {
        self.y -= gap;
        let height = LEADING * rows.len() as f32;
        if height < (TOP - BOTTOM) / 2.0 {
            self.room(height);
        }
        for (x, l) in rows {
            self.room(LEADING);
            let y = self.y;
            show(self.page(), Font::Regular, BODY, INK, MARGIN + x, y, &l);
            self.y -= LEADING;
        }
    }

    /// The ticked acceptance sentence and the framed evidence of the electronic signature,
    /// kept together on one page.
    fn closing(&mut self) {
        let e = self.evidence;
        let text_x = MARGIN + INSET + 18.0;
        let room = PAGE_W - MARGIN - INSET - text_x;
        let sentence = wrap(&winansi(ACCEPTANCE), Font::Regular, BODY, room, room);

        let inner = WIDTH - 2.0 * INSET - 8.0;
        let mut rows: Vec<(Font, f32, Vec<u8>)> = Vec::new();
        for text in [
            format!("Protocole n° {}", e.protocol_number),
            format!("Nom clé : {}", e.key_name),
            format!("Version : {}", e.version),
            format!(
                "Signé le {} par code SMS envoyé au {}",
                signed_on(e.signed_at),
                e.phone_masked
            ),
            "Empreinte SHA-256 du document :".to_owned(),
        ] {
            for l in wrap(&winansi(&text), Font::Regular, BODY, inner, inner) {
                rows.push((Font::Regular, BODY, l));
            }
        }
        for l in wrap(&winansi(&e.document_sha256), Font::Mono, BODY, inner, inner) {
            rows.push((Font::Mono, BODY, l));
        }
        let note =
            "L'empreinte est calculée sur le texte de l'annexe (UTF-8) auquel le code SMS est \
                    lié ; ce document en est la copie imprimable.";
        let notes = wrap(&winansi(note), Font::Regular, 7.0, WIDTH, WIDTH);

        let pad = 7.0;
        let box_h = LEADING * rows.len() as f32 + 2.0 * pad - 2.0;
        let sentence_h = LEADING * sentence.len() as f32;
        self.y -= 12.0;
        self.room(sentence_h + 10.0 + BAND + box_h + 12.0 + 9.0 * notes.len() as f32);

        // The acceptance box, ticked.
        let y = self.y;
        let c = self.page();
        let (bx, by, side) = (MARGIN + INSET, y - 1.5, 9.0);
        c.set_stroke_rgb(NAVY.0, NAVY.1, NAVY.2);
        c.set_line_width(0.8);
        c.rect(bx, by, side, side);
        c.stroke();
        c.set_line_width(1.3);
        c.move_to(bx + 1.8, by + 4.6);
        c.line_to(bx + 3.8, by + 2.0);
        c.line_to(bx + 7.6, by + 7.8);
        c.stroke();
        for l in &sentence {
            let y = self.y;
            show(self.page(), Font::Regular, BODY, INK, text_x, y, l);
            self.y -= LEADING;
        }

        self.y -= 10.0;
        self.band("SIGNATURE ÉLECTRONIQUE");
        let box_top = self.y + LEADING - 3.0;
        let c = self.page();
        c.set_stroke_rgb(NAVY.0, NAVY.1, NAVY.2);
        c.set_line_width(0.6);
        c.rect(MARGIN, box_top - box_h, WIDTH, box_h);
        c.stroke();
        self.y = box_top - pad - BODY + 1.0;
        for (font, size, l) in &rows {
            let y = self.y;
            show(self.page(), *font, *size, INK, MARGIN + INSET + 4.0, y, l);
            self.y -= LEADING;
        }
        self.y = box_top - box_h - 12.0;
        for l in &notes {
            let y = self.y;
            show(self.page(), Font::Regular, 7.0, GREY, MARGIN, y, l);
            self.y -= 9.0;
        }
    }
}

/// Adds the footers and writes the file.
fn finish(pages: Vec<Content>, annexe: &Annexe, e: &SignatureEvidence) -> Vec<u8> {
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let info = Ref::new(3);
    let font_ref = |f: Font| match f {
        Font::Regular => Ref::new(4),
        Font::Bold => Ref::new(5),
        Font::Mono => Ref::new(6),
    };
    let first_page = 7;
    let page_ref = |i: usize| Ref::new(first_page + 2 * i as i32);
    let content_ref = |i: usize| Ref::new(first_page + 2 * i as i32 + 1);

    let mut pdf = Pdf::new();
    pdf.set_file_id(file_id(annexe, e));
    let title = format!(
        "Annexe 1 au protocole d'accès sécurisé à SISERI — protocole n° {}, version {}",
        e.protocol_number, e.version
    );
    {
        let mut cat = pdf.catalog(catalog);
        cat.pages(tree);
        cat.lang(TextStr("fr-FR"));
        cat.viewer_preferences().display_doc_title(true);
    }
    {
        let mut doc = pdf.document_info(info);
        doc.title(TextStr(&title));
        doc.subject(TextStr(
            "Identification de l'employeur et de ses accédants au système SISERI",
        ));
        doc.creator(TextStr("SISERI — PASS"));
        doc.producer(TextStr("siseri-enroll"));
        doc.creation_date(pdf_date(e.signed_at));
    }
    let count = pages.len();
    pdf.pages(tree)
        .kids((0..count).map(page_ref))
        .count(i32::try_from(count).unwrap_or(i32::MAX));
    for f in Font::ALL {
        pdf.type1_font(font_ref(f))
            .base_font(f.base_font())
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    let footer = winansi(&format!(
        "Annexe 1 au protocole d'accès sécurisé à SISERI — protocole n° {}, version {}",
        e.protocol_number, e.version
    ));
    for (i, mut c) in pages.into_iter().enumerate() {
        rule(&mut c, 44.0, 0.5, GREY);
        show(&mut c, Font::Regular, 7.5, GREY, MARGIN, 33.0, &footer);
        let number = winansi(&format!("page {}/{}", i + 1, count));
        let x = PAGE_W - MARGIN - Font::Regular.width(&number, 7.5);
        show(&mut c, Font::Regular, 7.5, GREY, x, 33.0, &number);

        let mut page = pdf.page(page_ref(i));
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree);
        page.contents(content_ref(i));
        {
            let mut resources = page.resources();
            let mut fonts = resources.fonts();
            for f in Font::ALL {
                fonts.pair(f.resource(), font_ref(f));
            }
        }
        page.finish();
        pdf.stream(content_ref(i), &c.finish());
    }
    pdf.finish()
}

fn pdf_date(at: OffsetDateTime) -> Date {
    let t = at.checked_to_offset(UtcOffset::UTC).unwrap_or(at);
    Date::new(u16::try_from(t.year()).unwrap_or(0))
        .month(u8::from(t.month()))
        .day(t.day())
        .hour(t.hour())
        .minute(t.minute())
        .second(t.second())
        .utc_offset_hour(0)
}

/// The trailer's `/ID`, derived from what the document says so the bytes are reproducible.
fn file_id(annexe: &Annexe, e: &SignatureEvidence) -> (Vec<u8>, Vec<u8>) {
    let mut ctx = Context::new(&SHA256);
    for part in [
        annexe.text().as_str(),
        &e.protocol_number,
        &e.key_name,
        &e.version.to_string(),
        &e.signed_at.unix_timestamp().to_string(),
        &e.document_sha256,
        &e.phone_masked,
    ] {
        ctx.update(part.as_bytes());
        ctx.update(&[0]);
    }
    let id = ctx.finish().as_ref()[..16].to_vec();
    (id.clone(), id)
}
