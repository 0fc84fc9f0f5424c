//! What both Lambda functions stand on: the response envelopes, one error type, API-key auth,
//! body parsing, validated domain types, and the store port with its DynamoDB and in-memory
//! adapters.

pub mod auth;
pub mod auth_cache;
pub mod body;
pub mod clock;
pub mod config;
pub mod domain;
pub mod envelope;
pub mod error;
pub mod metrics;
pub mod pipeline;
pub mod request_id;
pub mod store;
pub mod telemetry;

pub use error::ApiError;

/// Counts this thread's heap allocations in the unit tests, so a test can say "allocates
/// nothing" (the EMF writer once warm, the log redaction of a clean line).
#[cfg(test)]
pub(crate) mod test_alloc {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    }

    /// Allocations made by this thread so far.
    pub fn count() -> u64 {
        ALLOCATIONS.with(Cell::get)
    }

    fn counted() {
        let _ = ALLOCATIONS.try_with(|a| a.set(a.get() + 1));
    }

    struct Counting;

    // SAFETY: every call is passed on unchanged to the system allocator.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            counted();
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            counted();
            unsafe { System.alloc_zeroed(layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            counted();
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static COUNTING: Counting = Counting;
}
