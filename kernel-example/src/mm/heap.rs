//! Kernel heap: `linked_list_allocator` over a static region in `.bss`.

use linked_list_allocator::LockedHeap;

const HEAP_SIZE: usize = 8 * 1024 * 1024;

#[repr(C, align(4096))]
struct HeapSpace([u8; HEAP_SIZE]);

static mut HEAP_SPACE: HeapSpace = HeapSpace([0; HEAP_SIZE]);

#[global_allocator]
static ALLOCATOR: LockedHeap = LockedHeap::empty();

/// Hands the static region to the allocator. Call once, before any allocation.
pub fn init() {
    // SAFETY: the region is a static used by nothing else, and `init` runs once.
    unsafe {
        ALLOCATOR
            .lock()
            .init((&raw mut HEAP_SPACE).cast::<u8>(), HEAP_SIZE);
    }
}

/// Bytes currently allocated on the heap.
pub fn used() -> usize {
    ALLOCATOR.lock().used()
}
