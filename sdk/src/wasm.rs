//! What every wasm32 contract needs and no author should write: an allocator and a panic handler.
#![allow(unsafe_code)] // a global allocator is unsafe by definition

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::Cell;

/// A bump allocator that never frees.
///
/// Every call runs in a fresh instance whose memory is discarded afterwards, so freeing would only
/// cost time: this allocator is a pointer increment, it is deterministic, and it is tiny. Memory
/// grows by whole pages as needed, up to the node's limit; past it, allocation fails and the call
/// aborts with a panic.
struct BumpAllocator {
    next: Cell<usize>,
}

// SAFETY: wasm32 contracts are single-threaded (threads are rejected at deploy).
unsafe impl Sync for BumpAllocator {}

const PAGE: usize = 65_536;

#[global_allocator]
static ALLOCATOR: BumpAllocator = BumpAllocator { next: Cell::new(0) };

extern "C" {
    /// First free byte after the stack and static data, placed by the linker.
    static __heap_base: u8;
}

/// Grow linear memory so that every address below `end` exists.
fn reserve(end: usize) -> bool {
    let available = wasm32::memory_size(0) * PAGE;
    end <= available || wasm32::memory_grow(0, (end - available).div_ceil(PAGE)) != usize::MAX
}

unsafe impl GlobalAlloc for BumpAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut next = self.next.get();
        if next == 0 {
            next = core::ptr::addr_of!(__heap_base) as usize;
        }
        let Some(start) = next.checked_next_multiple_of(layout.align()) else {
            return core::ptr::null_mut();
        };
        let Some(end) = start.checked_add(layout.size()) else {
            return core::ptr::null_mut();
        };
        if !reserve(end) {
            return core::ptr::null_mut();
        }
        self.next.set(end);
        start as *mut u8
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Growing the most recent allocation (a `Vec` being pushed to) extends it in place.
        if ptr as usize + layout.size() == self.next.get() && new_size >= layout.size() {
            let end = ptr as usize + new_size;
            if !reserve(end) {
                return core::ptr::null_mut();
            }
            self.next.set(end);
            return ptr;
        }
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        let new = self.alloc(new_layout);
        if !new.is_null() {
            core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
        }
        new
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let message = alloc::format!("panic: {}", info.message());
    crate::env::abort(crate::Error::PANIC, &message)
}
