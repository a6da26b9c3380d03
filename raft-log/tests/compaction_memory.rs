//! Compaction hands the dropped entries' memory back to the allocator, rather
//! than hiding it behind an offset or keeping it as spare capacity.

// Counting live heap bytes takes a `GlobalAlloc` implementation, and writing one
// is `unsafe`. The workspace denies unsafe code; this one test binary opts out,
// and its only unsafe code forwards each call to the system allocator unchanged.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use raft_log::{Entry, Index, Log, LogError, Term};

/// The system allocator, counting the bytes currently allocated.
#[derive(Debug)]
struct CountingAllocator;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments, and only
// adds bookkeeping on the side.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, which `System` shares.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` came from this allocator, hence from `System`, with `layout`.
        unsafe { System.dealloc(pointer, layout) };
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and the caller upholds `realloc`'s contract.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
            LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn live_bytes() -> usize {
    LIVE_BYTES.load(Ordering::Relaxed)
}

const ENTRIES: u64 = 10_000;
const PAYLOAD: usize = 1024;
const COMPACT_THROUGH: u64 = 9_990;

#[test]
fn compaction_releases_the_memory_of_the_dropped_entries() -> Result<(), LogError> {
    let empty = live_bytes();
    let mut log = Log::new();
    for n in 0..ENTRIES {
        log.push(Term(1), vec![n as u8; PAYLOAD]);
    }
    let full = live_bytes();
    assert!(full - empty >= ENTRIES as usize * PAYLOAD, "the payloads are counted");

    log.compact_through(Index(COMPACT_THROUGH))?;
    let compacted = live_bytes();

    // The payloads of the dropped entries are returned...
    let payload_dropped = COMPACT_THROUGH as usize * PAYLOAD;
    let released = full.saturating_sub(compacted);
    assert!(
        released >= payload_dropped / 10 * 9,
        "released {released} bytes after dropping {payload_dropped} bytes of payload"
    );
    // ...and so is the buffer that held them: what stays is about what the 10
    // remaining entries need, with slack far below the dropped buffer's size.
    let kept = (ENTRIES - COMPACT_THROUGH) as usize;
    let needed = kept * (PAYLOAD + size_of::<Entry>());
    let held = compacted - empty;
    assert!(held <= needed + 64 * 1024, "{held} bytes still held for {kept} entries");

    // The remaining entries are intact.
    let tail = log.entries_from(Index(COMPACT_THROUGH + 1))?;
    assert_eq!(tail.len(), kept);
    assert!(tail.iter().all(|entry| entry.data == vec![(entry.index.0 - 1) as u8; PAYLOAD]));
    Ok(())
}
