//! The test fixtures shared by every test crate of the workspace, in one place: the seed's
//! protocol, worker and CSV list beside this file, and the smallest documents the PASS
//! accepts. Included with `#[path = …] mod fixtures;` (the paths below are relative to this
//! file, so they hold from wherever it is included).
#![allow(dead_code)]

/// The seed's protocol, as `POST /api/v1/protocols` takes it.
pub const PROTOCOL: &str = include_str!("protocol.json");
/// The seed's worker, as `POST …/workers` takes it.
pub const WORKER: &str = include_str!("worker.json");
/// The seed's workers list, as the registry exports and imports it.
pub const WORKERS_CSV: &str = include_str!("workers.csv");

/// A minimal PDF: enough for the PASS to recognise a K-bis by its content.
pub const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
/// The signature and IHDR header of a 1×1 PNG: enough for the PASS to recognise an image.
pub const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R', 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0,
];

/// The first run of exactly six digits (an SMS signature code in its text).
pub fn six_digits(text: &str) -> Option<String> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(5))
        .find(|&i| {
            b[i..i + 6].iter().all(u8::is_ascii_digit)
                && (i == 0 || !b[i - 1].is_ascii_digit())
                && b.get(i + 6).is_none_or(|c| !c.is_ascii_digit())
        })
        .map(|i| text[i..i + 6].to_owned())
}
