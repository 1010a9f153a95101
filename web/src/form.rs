//! Form input read with a bound: a field is refused as soon as it passes its limit, before it
//! is held whole (axum's `Field::text` reads it all first, up to the whole body's limit).

use axum::extract::multipart::Field;

/// Why a field was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldError {
    /// Longer than its limit.
    TooLarge,
    /// Cut short, or not UTF-8.
    Unreadable,
}

/// The text of a multipart field that no form of ours makes longer than `max` bytes.
pub async fn field_text(mut field: Field<'_>, max: usize) -> Result<String, FieldError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|_| FieldError::Unreadable)? {
        if bytes.len() + chunk.len() > max {
            return Err(FieldError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| FieldError::Unreadable)
}
