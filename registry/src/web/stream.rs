//! The CSV import and export stream between HTTP bodies and the service's blocking
//! [`Read`]/[`Write`], so that a 150 MB file never sits in memory whole.
//!
//! tokio-util does the bridging: the service reads a [`SyncIoBridge`] over a [`StreamReader`]
//! of the request body, and writes to a [`SyncIoBridge`] over one end of a
//! [`tokio::io::duplex`] whose other end a [`ReaderStream`] turns into the response body. What
//! stays here is what those types do not do:
//!
//! - the import's size limit, as an error of the stream ([`io::ErrorKind::FileTooLarge`]) that
//!   the service reports as a read error and the handler recognises;
//! - a channel for a multipart field, which borrows its form and so cannot move to the
//!   blocking thread the way a whole body does;
//! - the export's outcome: a refusal before the first byte is answered with its own status,
//!   and a failure after it cuts the body short instead of ending it cleanly (an EOF would
//!   pass a truncated list off as whole).

use std::io::{self, BufWriter, Read, Write};

use axum::body::{Body, Bytes};
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncBufReadExt;
use tokio::sync::{mpsc, oneshot};
use tokio_util::io::{ReaderStream, StreamReader, SyncIoBridge};

/// Largest import accepted: a million workers is about 150 MB.
pub const IMPORT_MAX_BYTES: u64 = 1 << 30;

/// Bytes held between the two sides at once.
const CHUNK: usize = 64 * 1024;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A blocking reader of `upload`, to be moved to the blocking pool; past [`IMPORT_MAX_BYTES`]
/// it fails with [`io::ErrorKind::FileTooLarge`] (see [`too_large`]).
pub(crate) fn reader<S, E>(upload: S) -> impl Read + Send + 'static
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<BoxError>,
{
    let mut total = 0_u64;
    let limited = upload.map(move |chunk| {
        let bytes = chunk.map_err(io::Error::other)?;
        total += bytes.len() as u64;
        if total > IMPORT_MAX_BYTES {
            return Err(io::Error::from(io::ErrorKind::FileTooLarge));
        }
        Ok(bytes)
    });
    SyncIoBridge::new(StreamReader::new(Box::pin(limited)))
}

/// Whether a read error is the limit of [`reader`].
pub(crate) fn too_large(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::FileTooLarge
}

type Chunk = io::Result<Bytes>;

/// A stream for [`reader`] and the sender that feeds it, for an upload that cannot be handed
/// over whole (a multipart field).
pub(crate) fn channel() -> (
    mpsc::Sender<Chunk>,
    impl Stream<Item = Chunk> + Send + 'static,
) {
    let (tx, rx) = mpsc::channel(8);
    let upload = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    (tx, upload)
}

/// Sends the chunks of `field` to `tx` until it ends, fails (the failure is sent: the reader
/// must not take a cut file for a whole one), or the reader goes away.
pub(crate) async fn forward<S, E>(mut field: S, tx: mpsc::Sender<Chunk>)
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<BoxError>,
{
    while let Some(chunk) = field.next().await {
        let failed = chunk.is_err();
        if tx.send(chunk.map_err(io::Error::other)).await.is_err() || failed {
            break;
        }
    }
}

/// Runs `produce` on the blocking pool with a writer whose bytes become a response body.
///
/// Returns `Err` with the producer's error when it fails before its first chunk leaves (a
/// refusal: the caller answers it with its status; `None` when the task died); otherwise the
/// body, which is cut short if the producer fails later.
pub(crate) async fn streamed<E, F>(produce: F) -> Result<Body, Option<E>>
where
    E: Send + std::fmt::Display + 'static,
    F: FnOnce(&mut dyn Write) -> Result<(), E> + Send + 'static,
{
    let (writing, reading) = tokio::io::duplex(CHUNK);
    let bridge = SyncIoBridge::new(writing);
    let (done_tx, done_rx) = oneshot::channel::<Result<(), E>>();
    tokio::task::spawn_blocking(move || {
        let mut writer = BufWriter::with_capacity(CHUNK, bridge);
        let result = produce(&mut writer);
        if result.is_ok() {
            // A flush failure means the client left: nothing to tell anyone.
            let _ = writer.flush();
        } else {
            // What is still buffered is not sent: a failure within the first chunk is then a
            // refusal with its own status, not a body cut short.
            drop(writer.into_parts());
        }
        // The end of the body, before its outcome is told.
        let _ = done_tx.send(result);
    });
    let mut reading = tokio::io::BufReader::with_capacity(CHUNK, reading);
    if reading.fill_buf().await.map_or(true, |b| b.is_empty()) {
        // Nothing written: the outcome says why.
        return match done_rx.await {
            Ok(Err(e)) => Err(Some(e)),
            Ok(Ok(())) => Ok(Body::empty()),
            Err(_) => Err(None),
        };
    }
    let outcome = futures_util::stream::once(async move {
        match done_rx.await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "export interrompu");
                Some(Err(io::Error::other("export interrompu")))
            }
            Err(_) => Some(Err(io::Error::other("export interrompu"))),
        }
    })
    .filter_map(std::future::ready);
    Ok(Body::from_stream(
        ReaderStream::with_capacity(reading, CHUNK).chain(outcome),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn a_reader_gets_every_byte_of_the_upload_in_order() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let chunks: Vec<Result<Bytes, std::convert::Infallible>> = data
            .chunks(7_000)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let mut reader = reader(futures_util::stream::iter(chunks));
        let read = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            reader.read_to_end(&mut out).unwrap();
            out
        });
        assert_eq!(read.await.unwrap(), data);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_field_cut_short_is_a_read_error_not_an_end() {
        let (tx, upload) = channel();
        let mut reader = reader(upload);
        let read = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            reader.read_to_end(&mut out).map(|_| out)
        });
        let field = futures_util::stream::iter([Ok(Bytes::from_static(b"NOM;")), Err("coupé")]);
        forward(field, tx).await;
        assert!(read.await.unwrap().is_err());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_refusal_before_the_first_byte_is_returned_not_streamed() {
        let r = streamed(|_w| Err::<(), _>("refus")).await;
        assert!(matches!(r, Err(Some("refus"))));
        let body = streamed(|w| w.write_all(&vec![b'x'; 200_000]).map_err(|e| e.to_string()))
            .await
            .unwrap();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        assert_eq!(bytes.len(), 200_000);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_failure_after_the_first_byte_cuts_the_body_short() {
        let body = streamed(|w| {
            w.write_all(&vec![b'x'; 200_000])
                .map_err(|e| e.to_string())?;
            Err("panne".to_owned())
        })
        .await
        .unwrap();
        assert!(axum::body::to_bytes(body, usize::MAX).await.is_err());
    }
}
