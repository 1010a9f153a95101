//! A fair counting semaphore for blocking threads: at most `n` holders, the others wait in
//! the order they came.
//!
//! Why: sixty-four requests reading SQLite at once on two cores cost twice the CPU of the same
//! requests four at a time (every read transaction takes the WAL's locks, and the threads
//! fight over them), and the unlucky ones wait for ever. Let in a few at a time, first come
//! first served, the same reads finish sooner and in order. Written here because the standard
//! library has no semaphore and tokio's is acquired from async code, where the registry's
//! service methods run on blocking threads; a waiter is woken alone (no herd), when the permit
//! is handed to it.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

/// The semaphore. Cheap to clone; clones share the permits.
#[derive(Debug, Clone)]
pub struct Gate {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    free: usize,
    waiting: VecDeque<Arc<Waiter>>,
}

/// One waiting thread: its permit arrives when `granted` turns true.
#[derive(Debug, Default)]
struct Waiter {
    granted: Mutex<bool>,
    wake: Condvar,
}

/// A permit, given back when dropped.
#[derive(Debug)]
pub struct Pass<'g> {
    gate: &'g Gate,
}

impl Gate {
    /// At most `permits` holders at a time (at least one).
    pub fn new(permits: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    free: permits.max(1),
                    waiting: VecDeque::new(),
                }),
            }),
        }
    }

    /// Waits for a permit, after every thread that asked before.
    pub fn enter(&self) -> Pass<'_> {
        let waiter = {
            let mut state = self.lock();
            if state.free > 0 && state.waiting.is_empty() {
                state.free -= 1;
                return Pass { gate: self };
            }
            let waiter = Arc::new(Waiter::default());
            state.waiting.push_back(waiter.clone());
            waiter
        };
        let mut granted = waiter.granted.lock().unwrap_or_else(|p| p.into_inner());
        while !*granted {
            granted = waiter.wake.wait(granted).unwrap_or_else(|p| p.into_inner());
        }
        Pass { gate: self }
    }

    fn leave(&self) {
        let next = {
            let mut state = self.lock();
            match state.waiting.pop_front() {
                Some(next) => next,
                None => {
                    state.free += 1;
                    return;
                }
            }
        };
        // The permit goes straight to the first waiter.
        *next.granted.lock().unwrap_or_else(|p| p.into_inner()) = true;
        next.wake.notify_one();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        self.gate.leave();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn never_more_holders_than_permits_and_everyone_gets_through() {
        let gate = Gate::new(3);
        let inside = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..16 {
                s.spawn(|| {
                    for _ in 0..20 {
                        let _pass = gate.enter();
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_micros(200));
                        inside.fetch_sub(1, Ordering::SeqCst);
                        done.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
        assert_eq!(done.load(Ordering::SeqCst), 320);
        assert_eq!(most.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn waiters_get_in_in_the_order_they_came() {
        let gate = Gate::new(1);
        let order = Mutex::new(Vec::new());
        let first = gate.enter();
        std::thread::scope(|s| {
            for i in 0..5 {
                let (gate, order) = (&gate, &order);
                s.spawn(move || {
                    let _pass = gate.enter();
                    order.lock().unwrap().push(i);
                });
                // Each thread is queued before the next one starts.
                while gate.lock().waiting.len() < i + 1 {
                    std::thread::yield_now();
                }
            }
            drop(first);
        });
        assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
    }
}
