//! A transport that keeps what it is given, for tests of the code that queues messages.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use super::{Transport, TransportKind};
use crate::outbox::{StoredMessage, TransportError};

/// Keeps every delivered message, bodies included (tests read codes out of them); clones share
/// the same list. Can be told to fail the next attempts.
#[derive(Debug, Clone, Default)]
pub struct MemoryTransport {
    sent: Arc<Mutex<Vec<StoredMessage>>>,
    failures_left: Arc<AtomicU32>,
}

impl MemoryTransport {
    /// An empty transport.
    pub fn new() -> Self {
        Self::default()
    }

    /// What was delivered so far, in order.
    pub fn sent(&self) -> Vec<StoredMessage> {
        self.sent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Makes the next `attempts` sends fail.
    pub fn fail_next(&self, attempts: u32) {
        self.failures_left.store(attempts, Ordering::SeqCst);
    }
}

impl Transport for MemoryTransport {
    fn send(&self, msg: &StoredMessage) -> Result<(), TransportError> {
        let failing = self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(TransportError::Simulated);
        }
        self.sent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(msg.clone());
        Ok(())
    }

    fn kind(&self) -> TransportKind {
        TransportKind::Memory
    }
}
