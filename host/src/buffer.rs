//! The host-held buffer behind the `switchyard:adapter/buffer` import.
//!
//! Work an adapter accepted but has not delivered (an analytics batch) lives here, not in the
//! guest: a wasmtime store runs one call at a time and is unusable after a trap, so state in
//! guest memory would die with a trapped or timed-out call. Items a call takes are leased to
//! that call; when the call ends without `ack` (failure, trap, deadline) the lease returns
//! them to the front of the queue in their original order.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

/// One binding generation's queue of undelivered items.
#[derive(Debug)]
pub struct Buffer {
    inner: Mutex<Inner>,
    max_items: usize,
    max_bytes: usize,
}

#[derive(Debug, Default)]
struct Inner {
    queue: VecDeque<Item>,
    leases: HashMap<u64, Vec<Item>>,
    bytes: usize,
}

#[derive(Debug)]
struct Item {
    at: Instant,
    data: Vec<u8>,
}

/// A snapshot of a buffer's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BufferStats {
    /// Items waiting to be taken.
    pub pending: u32,
    /// Age of the oldest waiting item, in milliseconds.
    pub oldest_age_ms: u64,
    /// Items leased to running calls.
    pub in_flight: u32,
}

/// Why an item was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BufferFull {
    /// The item count limit was reached.
    #[error("buffer full: {0} items waiting (limits.buffer_items)")]
    Items(usize),
    /// The byte limit was reached.
    #[error("buffer full: {0} bytes waiting (limits.buffer_mib)")]
    Bytes(usize),
}

impl Buffer {
    /// An empty buffer holding at most `max_items` items and `max_bytes` bytes.
    pub fn new(max_items: usize, max_bytes: usize) -> Self {
        Buffer {
            inner: Mutex::new(Inner::default()),
            max_items,
            max_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock leaves the queue consistent (every mutation is a
        // single push/pop), so a poisoned lock is safe to keep using.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends an item at the back.
    pub fn push(&self, data: Vec<u8>) -> Result<BufferStats, BufferFull> {
        let mut inner = self.lock();
        let count = inner.queue.len() + inner.leases.values().map(Vec::len).sum::<usize>();
        if count >= self.max_items {
            return Err(BufferFull::Items(count));
        }
        if inner.bytes + data.len() > self.max_bytes {
            return Err(BufferFull::Bytes(inner.bytes));
        }
        inner.bytes += data.len();
        inner.queue.push_back(Item {
            at: Instant::now(),
            data,
        });
        Ok(stats_of(&inner))
    }

    /// The buffer's state now.
    pub fn stats(&self) -> BufferStats {
        stats_of(&self.lock())
    }

    /// Leases up to `max` of the oldest items to `call`.
    pub fn take(&self, call: u64, max: u32) -> Vec<Vec<u8>> {
        let mut inner = self.lock();
        let n = (max as usize).min(inner.queue.len());
        let taken: Vec<Item> = inner.queue.drain(..n).collect();
        let copies = taken.iter().map(|i| i.data.clone()).collect();
        inner.leases.entry(call).or_default().extend(taken);
        copies
    }

    /// Drops for good everything leased to `call`.
    pub fn ack(&self, call: u64) {
        let mut inner = self.lock();
        if let Some(items) = inner.leases.remove(&call) {
            let freed: usize = items.iter().map(|i| i.data.len()).sum();
            inner.bytes -= freed;
        }
    }

    /// Returns everything leased to `call` to the front of the queue, oldest first.
    pub fn release(&self, call: u64) {
        let mut inner = self.lock();
        if let Some(items) = inner.leases.remove(&call) {
            for item in items.into_iter().rev() {
                inner.queue.push_front(item);
            }
        }
    }

    /// Whether nothing is waiting or leased.
    pub fn is_empty(&self) -> bool {
        let inner = self.lock();
        inner.queue.is_empty() && inner.leases.is_empty()
    }
}

fn stats_of(inner: &Inner) -> BufferStats {
    BufferStats {
        pending: inner.queue.len() as u32,
        oldest_age_ms: inner
            .queue
            .front()
            .map(|i| i.at.elapsed().as_millis() as u64)
            .unwrap_or(0),
        in_flight: inner.leases.values().map(Vec::len).sum::<usize>() as u32,
    }
}

/// Ties a call's leases to its lifetime: dropping the lease releases what was not acked.
#[derive(Debug)]
pub struct Lease {
    buffer: std::sync::Arc<Buffer>,
    call: u64,
}

impl Lease {
    /// A lease for `call` on `buffer`.
    pub fn new(buffer: std::sync::Arc<Buffer>, call: u64) -> Self {
        Lease { buffer, call }
    }

    /// The buffer this lease draws from.
    pub fn buffer(&self) -> &Buffer {
        &self.buffer
    }

    /// The call this lease belongs to.
    pub fn call(&self) -> u64 {
        self.call
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.buffer.release(self.call);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn unacked_items_return_in_order() {
        let b = Arc::new(Buffer::new(10, 1024));
        for i in 0..4u8 {
            b.push(vec![i]).expect("room");
        }
        {
            let lease = Lease::new(b.clone(), 1);
            assert_eq!(lease.buffer().take(1, 3), vec![vec![0], vec![1], vec![2]]);
            assert_eq!(b.stats().in_flight, 3);
        }
        assert_eq!(b.stats().pending, 4);
        assert_eq!(b.take(2, 10), vec![vec![0], vec![1], vec![2], vec![3]]);
        b.ack(2);
        assert!(b.is_empty());
    }

    #[test]
    fn full_buffer_refuses_and_keeps_what_it_has() {
        let b = Buffer::new(2, 1024);
        b.push(vec![1]).expect("room");
        b.push(vec![2]).expect("room");
        assert_eq!(b.push(vec![3]), Err(BufferFull::Items(2)));
        assert_eq!(b.stats().pending, 2);
        let small = Buffer::new(10, 3);
        small.push(vec![0; 3]).expect("room");
        assert_eq!(small.push(vec![0]), Err(BufferFull::Bytes(3)));
    }
}
