//! The web-facing side of the signer: a client that asks, over the signer's Unix socket, for
//! the signatures an [`Authority`](crate::Authority) needs, and never sees the key.

use std::io;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use super::wire::{read_frame, write_frame, Answer, Request};
use crate::{Error, Result};

/// How long one signature may take, a full CRL of millions of entries included.
const CALL_TIMEOUT: Duration = Duration::from_secs(120);
/// Connections kept open for the next calls.
const MAX_IDLE: usize = 8;

/// A client of the signer listening at a socket path. Calls may come from any thread; each
/// takes an idle connection or opens one.
pub struct SignerClient {
    path: PathBuf,
    idle: Mutex<Vec<UnixStream>>,
    /// Whatever must live as long as the client (a short-lived signer child process).
    _keep: Option<Box<dyn Send + Sync>>,
}

impl std::fmt::Debug for SignerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignerClient")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SignerClient {
    /// A client of the signer at `path`; checks that it answers and that it is the CA whose
    /// certificate's SHA-256 is `ca_sha256`.
    pub fn connect(path: &Path, ca_sha256: &[u8]) -> Result<Self> {
        Self::connect_keeping(path, ca_sha256, None)
    }

    /// [`connect`](Self::connect), keeping `keep` alive (dropped with the client): a child
    /// process guard, say.
    pub fn connect_keeping(
        path: &Path,
        ca_sha256: &[u8],
        keep: Option<Box<dyn Send + Sync>>,
    ) -> Result<Self> {
        let client = Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
            _keep: keep,
        };
        let fingerprint = client.call(&Request::Hello)?;
        if fingerprint != ca_sha256 {
            return Err(Error::SignerUnavailable(format!(
                "le signataire de {} sert une autre AC",
                path.display()
            )));
        }
        Ok(client)
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sends `request`, returns the signature. A connection found broken is replaced once.
    pub(crate) fn call(&self, request: &Request) -> Result<Vec<u8>> {
        let payload = request.encode();
        let reused = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let answer = match reused {
            Some(mut stream) => match exchange(&mut stream, &payload) {
                Ok(answer) => Some((stream, answer)),
                // The signer restarted since: its old connections are closed.
                Err(_) => None,
            },
            None => None,
        };
        let (stream, answer) = match answer {
            Some(done) => done,
            None => {
                let mut stream = self.open()?;
                let answer = exchange(&mut stream, &payload).map_err(|e| self.unavailable(e))?;
                (stream, answer)
            }
        };
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(stream);
        }
        drop(idle);
        match Answer::decode(&answer).map_err(Error::SignerUnavailable)? {
            Answer::Signed(bytes) => Ok(bytes),
            Answer::Refused(why) => Err(Error::SignerRefused(why)),
            Answer::Failed(why) => Err(Error::SignerUnavailable(why)),
        }
    }

    fn open(&self) -> Result<UnixStream> {
        let stream = UnixStream::connect(&self.path).map_err(|e| self.unavailable(e))?;
        stream
            .set_read_timeout(Some(CALL_TIMEOUT))
            .and_then(|()| stream.set_write_timeout(Some(CALL_TIMEOUT)))
            .map_err(|e| self.unavailable(e))?;
        Ok(stream)
    }

    fn unavailable(&self, e: io::Error) -> Error {
        Error::SignerUnavailable(format!("{} : {e}", self.path.display()))
    }
}

fn exchange(stream: &mut UnixStream, payload: &[u8]) -> io::Result<Vec<u8>> {
    write_frame(stream, payload)?;
    read_frame(stream)?.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "le signataire a fermé la connexion",
        )
    })
}
