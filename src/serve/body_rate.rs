//! The minimum rate of a request body: a client that sends its body slower than
//! `[limits] min_body_bytes_per_sec`, measured over windows of `body_rate_window_secs` of
//! *waiting* for it, is cut with a 408 and the connection closed. Without it, a body that comes
//! a byte every ten seconds holds a connection (and its share of the listener's budget) for the
//! whole `request_secs`.
//!
//! Only the time the handler spends waiting for the client counts: an import that pauses its
//! reading to write to the database is not the client's slowness. This is Apache's
//! `mod_reqtimeout` `MinRate` (there: 500 bytes/s over 20 s), which tower-http's timeouts do
//! not offer (they bound the whole body, not its pace), hence written here.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

/// The minimum pace of request bodies.
#[derive(Debug, Clone, Copy)]
pub(super) struct MinRate {
    /// Bytes a second at least, on average over a window; 0: no minimum.
    pub bytes_per_sec: u64,
    /// Seconds of waiting for the client over which the average is taken.
    pub window: Duration,
}

impl MinRate {
    fn per_window(self) -> u64 {
        self.bytes_per_sec
            .saturating_mul(self.window.as_secs().max(1))
    }
}

/// The 408's message when a body was cut for its slowness.
pub(super) const TOO_SLOW: &str =
    "Requête trop lente : le corps de la requête arrive trop lentement, elle n'a pas été traitée.";

/// Tells, once the handler has answered, whether [`pace`] cut the body for its slowness (then
/// the answer is a 408 with [`TOO_SLOW`]).
pub(super) struct Cut(Option<Arc<AtomicBool>>);

impl Cut {
    pub(super) fn happened(&self) -> bool {
        self.0.as_ref().is_some_and(|f| f.load(Ordering::Relaxed))
    }
}

/// `request` with its body held to `rate` (unchanged when no minimum is configured).
pub(super) fn pace(rate: MinRate, request: Request) -> (Request, Cut) {
    if rate.bytes_per_sec == 0 {
        return (request, Cut(None));
    }
    let too_slow = Arc::new(AtomicBool::new(false));
    let (parts, body) = request.into_parts();
    let body = Body::from_stream(Paced {
        inner: body.into_data_stream(),
        rate,
        too_slow: too_slow.clone(),
        window: Window::default(),
        waiting: None,
    });
    (Request::from_parts(parts, body), Cut(Some(too_slow)))
}

/// What a window has seen so far.
#[derive(Debug, Default)]
struct Window {
    waited: Duration,
    bytes: u64,
}

/// The body, failing once a window of waiting brought fewer bytes than the minimum.
struct Paced<S> {
    inner: S,
    rate: MinRate,
    too_slow: Arc<AtomicBool>,
    window: Window,
    /// Since when the handler waits for the client, and the alarm at the end of the window.
    waiting: Option<(Instant, Pin<Box<Sleep>>)>,
}

impl<S> Paced<S> {
    /// Ends the waiting that began at `since`: its time counts in the window; a full window
    /// is judged and a new one begins. `false`: too slow.
    fn waited_until(&mut self, since: Instant, now: Instant) -> bool {
        self.window.waited += now.saturating_duration_since(since);
        if self.window.waited < self.rate.window {
            return true;
        }
        let enough = self.window.bytes >= self.rate.per_window();
        self.window = Window::default();
        enough
    }

    fn cut(&mut self) -> Poll<Option<Result<Bytes, axum::Error>>> {
        self.too_slow.store(true, Ordering::Relaxed);
        self.waiting = None;
        Poll::Ready(Some(Err(axum::Error::new(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "corps de requête trop lent",
        )))))
    }
}

impl<S> Stream for Paced<S>
where
    S: Stream<Item = Result<Bytes, axum::Error>> + Unpin,
{
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.too_slow.load(Ordering::Relaxed) {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(item) => {
                if let Some((since, _)) = this.waiting.take() {
                    if let Some(Ok(chunk)) = &item {
                        this.window.bytes += chunk.len() as u64;
                    }
                    if !this.waited_until(since, Instant::now()) && item.is_some() {
                        return this.cut();
                    }
                } else if let Some(Ok(chunk)) = &item {
                    this.window.bytes += chunk.len() as u64;
                }
                Poll::Ready(item)
            }
            Poll::Pending => {
                let now = Instant::now();
                if this.waiting.is_none() {
                    let left = this.rate.window.saturating_sub(this.window.waited);
                    this.waiting = Some((now, Box::pin(tokio::time::sleep(left))));
                }
                let Some((since, alarm)) = this.waiting.as_mut() else {
                    return Poll::Pending;
                };
                if alarm.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                // The window ended while waiting: judge it, and wait on in a new one.
                let since = *since;
                this.waiting = None;
                if !this.waited_until(since, now) {
                    return this.cut();
                }
                let alarm = Box::pin(tokio::time::sleep(this.rate.window));
                this.waiting = Some((now, alarm));
                if let Some((_, alarm)) = this.waiting.as_mut() {
                    // Registers the new alarm's waker.
                    let _ = alarm.as_mut().poll(cx);
                }
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn rate(bytes_per_sec: u64, secs: u64) -> MinRate {
        MinRate {
            bytes_per_sec,
            window: Duration::from_secs(secs),
        }
    }

    /// A body of `chunks` bytes each `every` apart, read through [`Paced`]: bytes read, and
    /// whether it was cut.
    async fn read(rate: MinRate, chunk: usize, every: Duration, chunks: usize) -> (usize, bool) {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, axum::Error>>(1);
        tokio::spawn(async move {
            for _ in 0..chunks {
                tokio::time::sleep(every).await;
                if tx.send(Ok(Bytes::from(vec![b'x'; chunk]))).await.is_err() {
                    return;
                }
            }
        });
        let too_slow = Arc::new(AtomicBool::new(false));
        let mut paced = Paced {
            inner: tokio_stream_from(rx),
            rate,
            too_slow: too_slow.clone(),
            window: Window::default(),
            waiting: None,
        };
        let mut n = 0;
        while let Some(item) = paced.next().await {
            match item {
                Ok(b) => n += b.len(),
                Err(_) => break,
            }
        }
        (n, too_slow.load(Ordering::Relaxed))
    }

    fn tokio_stream_from(
        mut rx: tokio::sync::mpsc::Receiver<Result<Bytes, axum::Error>>,
    ) -> impl Stream<Item = Result<Bytes, axum::Error>> + Unpin {
        Box::pin(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)))
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_a_byte_every_ten_seconds_is_cut_after_one_window() {
        let start = Instant::now();
        let (n, cut) = read(rate(100, 20), 1, Duration::from_secs(10), 1000).await;
        assert!(cut);
        assert!(n < 10, "{n} bytes read");
        let took = start.elapsed();
        assert!(took <= Duration::from_secs(21), "cut after {took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_body_is_cut_at_the_end_of_the_window() {
        let (n, cut) = read(rate(100, 20), 1, Duration::from_secs(3600), 1).await;
        assert!(cut);
        assert_eq!(n, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_but_steady_upload_above_the_minimum_passes() {
        // 200 bytes/s against a minimum of 100, for two minutes.
        let (n, cut) = read(rate(100, 20), 200, Duration::from_secs(1), 120).await;
        assert!(!cut);
        assert_eq!(n, 200 * 120);
    }

    #[tokio::test(start_paused = true)]
    async fn time_the_handler_spends_elsewhere_is_not_the_clients() {
        // The client sends everything at once; the handler reads a chunk an hour.
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, axum::Error>>(16);
        for _ in 0..10 {
            tx.send(Ok(Bytes::from_static(b"x"))).await.expect("send");
        }
        drop(tx);
        let too_slow = Arc::new(AtomicBool::new(false));
        let mut paced = Paced {
            inner: tokio_stream_from(rx),
            rate: rate(100, 20),
            too_slow: too_slow.clone(),
            window: Window::default(),
            waiting: None,
        };
        let mut n = 0;
        while let Some(Ok(b)) = paced.next().await {
            n += b.len();
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        assert_eq!(n, 10);
        assert!(!too_slow.load(Ordering::Relaxed));
    }
}
