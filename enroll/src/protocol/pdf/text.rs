//! The text side of the PDF: the three standard fonts and their advance widths, encoding into
//! WinAnsi (Windows-1252), and wrapping lines to a width.

use pdf_writer::Name;

/// The three fonts, with their advance widths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Font {
    Regular,
    Bold,
    Mono,
}

impl Font {
    pub(super) const ALL: [Font; 3] = [Font::Regular, Font::Bold, Font::Mono];

    pub(super) fn resource(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"F1"),
            Font::Bold => Name(b"F2"),
            Font::Mono => Name(b"F3"),
        }
    }

    pub(super) fn base_font(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"Helvetica"),
            Font::Bold => Name(b"Helvetica-Bold"),
            Font::Mono => Name(b"Courier"),
        }
    }

    /// Advance of one WinAnsi byte, in 1/1000 of the font size.
    pub(super) fn advance(self, byte: u8) -> u16 {
        let table = match self {
            Font::Mono => return 600,
            Font::Regular => &HELVETICA,
            Font::Bold => &HELVETICA_BOLD,
        };
        byte.checked_sub(0x20)
            .and_then(|i| table.get(usize::from(i)))
            .copied()
            .unwrap_or(0)
    }

    /// Width in points of WinAnsi `text` at `size`.
    pub(super) fn width(self, text: &[u8], size: f32) -> f32 {
        let units: u32 = text.iter().map(|&b| u32::from(self.advance(b))).sum();
        units as f32 * size / 1000.0
    }
}

// Advance widths of Helvetica and Helvetica-Bold, from Adobe's Core 14 AFM files, indexed by
// WinAnsi code from 0x20 to 0xFF (0 where the code has no glyph). They are written here because
// the standard 14 fonts are not embedded: their metrics are in no file the PDF or this crate
// carries, and the reader's copy of the font has these same widths.
#[rustfmt::skip]
const HELVETICA: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // 0x20
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0x30
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // 0x40
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // 0x50
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // 0x60
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 0,   // 0x70
    556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0,    // 0x80
    0, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667,   // 0x90
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333, // 0xA0
    400, 584, 333, 333, 333, 578, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611, // 0xB0
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, // 0xC0
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, // 0xD0
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278, // 0xE0
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500, // 0xF0
];

#[rustfmt::skip]
const HELVETICA_BOLD: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, // 0x20
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, // 0x30
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, // 0x40
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, // 0x50
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, // 0x60
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 0,   // 0x70
    556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0,    // 0x80
    0, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667,   // 0x90
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333, // 0xA0
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611, // 0xB0
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, // 0xC0
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, // 0xD0
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278, // 0xE0
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556, // 0xF0
];

/// Encodes `text` in WinAnsiEncoding (Windows-1252); what it cannot hold becomes `?`.
pub(super) fn winansi(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        // `e` + U+0301 (as some systems send accents) is printed as `é`.
        let c = match chars.peek().and_then(|&mark| compose(c, mark)) {
            Some(composed) => {
                chars.next();
                composed
            }
            None => c,
        };
        out.push(winansi_byte(c));
    }
    out
}

fn winansi_byte(c: char) -> u8 {
    match c {
        // ASCII and Latin-1 are the same codes in Windows-1252.
        ' '..='~' | '\u{a0}'..='\u{ff}' => u8::try_from(u32::from(c)).unwrap_or(b'?'),
        '\t' => b' ',
        '\u{2007}' | '\u{202f}' => 0xA0,
        '\u{2010}' | '\u{2011}' | '\u{2212}' => b'-',
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8A,
        '‹' => 0x8B,
        'Œ' => 0x8C,
        'Ž' => 0x8E,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9A,
        '›' => 0x9B,
        'œ' => 0x9C,
        'ž' => 0x9E,
        'Ÿ' => 0x9F,
        _ => b'?',
    }
}

/// The precomposed letter for `base` + combining `mark`, for the letters WinAnsi has.
fn compose(base: char, mark: char) -> Option<char> {
    let pairs = match mark {
        '\u{300}' => "AÀaàEÈeèIÌiìOÒoòUÙuù",
        '\u{301}' => "AÁaáEÉeéIÍiíOÓoóUÚuúYÝyý",
        '\u{302}' => "AÂaâEÊeêIÎiîOÔoôUÛuû",
        '\u{303}' => "AÃaãNÑnñOÕoõ",
        '\u{308}' => "AÄaäEËeëIÏiïOÖoöUÜuüYŸyÿ",
        '\u{30a}' => "AÅaå",
        '\u{30c}' => "SŠsšZŽzž",
        '\u{327}' => "CÇcç",
        _ => return None,
    };
    let mut it = pairs.chars();
    while let (Some(b), Some(c)) = (it.next(), it.next()) {
        if b == base {
            return Some(c);
        }
    }
    None
}

/// How many leading bytes of `text` fit in `width` (at least one, so that it progresses).
fn fitting(text: &[u8], font: Font, size: f32, width: f32) -> usize {
    let mut used = 0.0;
    for (i, &b) in text.iter().enumerate() {
        used += f32::from(font.advance(b)) * size / 1000.0;
        if used > width {
            return i.max(1);
        }
    }
    text.len()
}

/// Greedy word wrap of WinAnsi `text`: the first line gets `first` points, the others `rest`.
/// Runs of spaces inside a line are kept; a word longer than a line is cut.
pub(super) fn wrap(text: &[u8], font: Font, size: f32, first: f32, rest: f32) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    let mut room = first;
    for word in text.split(|&b| b == b' ') {
        if line.is_empty() && word.is_empty() {
            continue;
        }
        let candidate = if line.is_empty() {
            font.width(word, size)
        } else {
            font.width(&line, size) + font.width(b" ", size) + font.width(word, size)
        };
        if candidate <= room {
            if !line.is_empty() {
                line.push(b' ');
            }
            line.extend_from_slice(word);
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            room = rest;
        }
        let mut word = word;
        while font.width(word, size) > room {
            let n = fitting(word, font, size, room);
            lines.push(word[..n].to_vec());
            word = &word[n..];
            room = rest;
        }
        line.extend_from_slice(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    for l in &mut lines {
        while l.last() == Some(&b' ') {
            l.pop();
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::super::BODY;
    use super::*;

    #[test]
    fn french_text_is_encoded_in_winansi() {
        assert_eq!(
            winansi("é è à ç ô É È À"),
            b"\xe9 \xe8 \xe0 \xe7 \xf4 \xc9 \xc8 \xc0"
        );
        assert_eq!(winansi("— ’ « » € …"), b"\x97 \x92 \xab \xbb \x80 \x85");
        assert_eq!(winansi("e\u{301}"), b"\xe9");
        assert_eq!(winansi("Ğ☃"), b"??");
    }

    #[test]
    fn wrapped_lines_fit_and_keep_every_word() {
        let text = winansi(
            "Le représentant légal de l'entreprise reconnaît avoir pris connaissance du protocole.",
        );
        let lines = wrap(&text, Font::Regular, BODY, 120.0, 100.0);
        assert!(lines.len() > 2);
        for (i, l) in lines.iter().enumerate() {
            let room = if i == 0 { 120.0 } else { 100.0 };
            assert!(Font::Regular.width(l, BODY) <= room);
        }
        assert_eq!(lines.join(&b' '), text);
        let hash = [b'a'; 64];
        let cut = wrap(&hash, Font::Mono, 9.0, 100.0, 100.0);
        assert!(cut.len() > 1);
        assert_eq!(cut.concat(), hash);
    }
}
