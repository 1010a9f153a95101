//! Bridges between the async bodies of requests and responses and the service's blocking
//! readers and writers, so that a 150 MB import or export never sits in memory whole.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};

/// Largest import accepted: a million workers is about 150 MB.
pub const IMPORT_MAX_BYTES: u64 = 1 << 30;

/// Chunks handed to the blocking side at once.
const CHUNK: usize = 64 * 1024;

type Chunk = Result<Bytes, io::Error>;

/// A blocking [`Read`] over chunks sent from the async side.
#[derive(Debug)]
pub(crate) struct ChannelReader {
    rx: mpsc::Receiver<Chunk>,
    current: Bytes,
}

impl ChannelReader {
    /// A reader and the sender that feeds it.
    pub(crate) fn new() -> (mpsc::Sender<Chunk>, Self) {
        let (tx, rx) = mpsc::channel(8);
        (
            tx,
            Self {
                rx,
                current: Bytes::new(),
            },
        )
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// What went wrong with an uploaded body, beside what the service says of its content.
#[derive(Debug, Default)]
pub(crate) struct Upload {
    /// Larger than [`IMPORT_MAX_BYTES`].
    pub too_large: AtomicBool,
    /// The client stopped sending.
    pub broken: AtomicBool,
}

/// Feeds `tx` with the chunks of `stream` until it ends, the reader goes away, or the limit is
/// passed; records why it stopped in `upload`.
pub(crate) async fn pump<S, E>(
    mut stream: S,
    tx: mpsc::Sender<Chunk>,
    upload: &Arc<Upload>,
    sent: u64,
) -> u64
where
    S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut total = sent;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => {
                total += bytes.len() as u64;
                if total > IMPORT_MAX_BYTES {
                    upload.too_large.store(true, Ordering::Relaxed);
                    let _ = tx
                        .send(Err(io::Error::other("fichier trop volumineux")))
                        .await;
                    break;
                }
                if tx.send(Ok(bytes)).await.is_err() {
                    // The service stopped reading (a refusal, or a bad header).
                    break;
                }
            }
            Err(e) => {
                upload.broken.store(true, Ordering::Relaxed);
                let _ = tx.send(Err(io::Error::other(e.to_string()))).await;
                break;
            }
        }
    }
    total
}

/// A blocking [`Write`] whose bytes go, in chunks, to the async side.
#[derive(Debug)]
pub(crate) struct ChannelWriter {
    tx: mpsc::Sender<Chunk>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "client parti"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// Runs `produce` on the blocking pool with a writer whose bytes become a response body.
///
/// Returns `Err` with the producer's error when it fails before writing anything (a refusal:
/// the caller answers it with its status); otherwise the body, which is cut short if the
/// producer fails later.
pub(crate) async fn streamed<E, F>(produce: F) -> Result<Body, Option<E>>
where
    E: Send + std::fmt::Display + 'static,
    F: FnOnce(&mut ChannelWriter) -> Result<(), E> + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<Chunk>(8);
    let (done_tx, done_rx) = oneshot::channel::<Result<(), E>>();
    let task = tokio::task::spawn_blocking(move || {
        let mut writer = ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        };
        let result = produce(&mut writer).map(|()| {
            // A flush failure means the client left: nothing to tell anyone.
            let _ = writer.flush();
        });
        drop(writer);
        let _ = done_tx.send(result);
    });
    let first = rx.recv().await;
    let Some(first) = first else {
        // Nothing written: the outcome says why.
        let _ = task.await;
        return match done_rx.await {
            Ok(Err(e)) => Err(Some(e)),
            Ok(Ok(())) => Ok(Body::empty()),
            Err(_) => Err(None),
        };
    };
    let state = (Some(first), rx, Some(done_rx));
    let stream = futures_util::stream::unfold(state, |(first, mut rx, done)| async move {
        if let Some(chunk) = first {
            return Some((chunk, (None, rx, done)));
        }
        match rx.recv().await {
            Some(chunk) => Some((chunk, (None, rx, done))),
            None => {
                let done = done?;
                match done.await {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "export interrompu");
                        Some((Err(io::Error::other("export interrompu")), (None, rx, None)))
                    }
                    Err(_) => Some((Err(io::Error::other("export interrompu")), (None, rx, None))),
                }
            }
        }
    });
    Ok(Body::from_stream(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn a_reader_gets_every_byte_the_pump_sends_in_order() {
        let (tx, mut reader) = ChannelReader::new();
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let chunks: Vec<Result<Bytes, std::convert::Infallible>> = data
            .chunks(7_000)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let reading = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            reader.read_to_end(&mut out).unwrap();
            out
        });
        let upload = Arc::new(Upload::default());
        let sent = pump(futures_util::stream::iter(chunks), tx, &upload, 0).await;
        assert_eq!(sent, data.len() as u64);
        assert_eq!(reading.await.unwrap(), data);
        assert!(!upload.too_large.load(Ordering::Relaxed));
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
}
