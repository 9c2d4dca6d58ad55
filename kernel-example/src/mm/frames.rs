//! Physical frame allocator: a bitmap over the usable RAM from the multiboot memory map.
//!
//! Only RAM below 4 GiB is managed (the boot physical map covers that much). Frames are
//! handed out zeroed. The allocator counts frames in use so that the scenarios can check
//! that every frame a process took came back.

use spin::Mutex;
use x86_64::structures::paging::{PhysFrame, Size4KiB};
use x86_64::PhysAddr;

/// Bytes per frame.
pub const FRAME_SIZE: u64 = 4096;
const MAX_PHYS: u64 = super::layout::PHYS_MAP_SIZE;
const FRAMES: usize = (MAX_PHYS / FRAME_SIZE) as usize;

struct Bitmap {
    /// Bit set = frame free.
    free: [u64; FRAMES / 64],
    free_count: u64,
    total: u64,
    next: usize,
}

static FRAMES_MAP: Mutex<Bitmap> = Mutex::new(Bitmap {
    free: [0; FRAMES / 64],
    free_count: 0,
    total: 0,
    next: 0,
});

/// Marks `[start, end)` free, rounded inward to whole frames, skipping `reserved`.
pub fn add_region(start: u64, end: u64, reserved: &[(u64, u64)]) {
    let mut map = FRAMES_MAP.lock();
    let first = start.div_ceil(FRAME_SIZE);
    let last = end.min(MAX_PHYS) / FRAME_SIZE;
    for frame in first..last {
        let addr = frame * FRAME_SIZE;
        if reserved
            .iter()
            .any(|&(s, e)| addr + FRAME_SIZE > s && addr < e)
        {
            continue;
        }
        let (word, bit) = (frame as usize / 64, frame % 64);
        if map.free[word] & (1 << bit) == 0 {
            map.free[word] |= 1 << bit;
            map.free_count += 1;
            map.total += 1;
        }
    }
}

/// Allocates one zeroed frame.
pub fn alloc() -> Option<PhysFrame<Size4KiB>> {
    let frame = {
        let mut map = FRAMES_MAP.lock();
        let words = map.free.len();
        let mut found = None;
        for i in 0..words {
            let word = (map.next + i) % words;
            if map.free[word] != 0 {
                let bit = map.free[word].trailing_zeros() as usize;
                map.free[word] &= !(1 << bit);
                map.free_count -= 1;
                map.next = word;
                found = Some((word * 64 + bit) as u64);
                break;
            }
        }
        found?
    };
    let addr = PhysAddr::new(frame * FRAME_SIZE);
    // SAFETY: the frame was free, so nothing else refers to it, and the physical map
    // covers all managed RAM.
    unsafe {
        super::layout::phys_to_virt(addr)
            .as_mut_ptr::<u8>()
            .write_bytes(0, FRAME_SIZE as usize)
    };
    Some(PhysFrame::containing_address(addr))
}

/// Returns a frame to the allocator.
///
/// # Panics
/// If the frame is already free (a double free).
pub fn free(frame: PhysFrame<Size4KiB>) {
    let index = frame.start_address().as_u64() / FRAME_SIZE;
    let mut map = FRAMES_MAP.lock();
    let (word, bit) = (index as usize / 64, index % 64);
    assert!(
        map.free[word] & (1 << bit) == 0,
        "double free of frame {:#x}",
        frame.start_address()
    );
    map.free[word] |= 1 << bit;
    map.free_count += 1;
}

/// Frames currently free.
pub fn free_count() -> u64 {
    FRAMES_MAP.lock().free_count
}

/// Frames the allocator manages (free or not).
pub fn total_count() -> u64 {
    FRAMES_MAP.lock().total
}

static ZERO_FRAME: spin::Once<PhysFrame<Size4KiB>> = spin::Once::new();

/// Allocates the shared zero frame (once, at boot, before any process): the frame
/// every read of untouched anonymous memory of a Linux process maps read-only.
///
/// # Panics
/// If no frame is free at boot.
pub fn init_zero_frame() {
    ZERO_FRAME.call_once(|| alloc().expect("a frame for the zero page"));
}

/// The shared zero frame (see [`init_zero_frame`]); never freed, never written.
///
/// # Panics
/// If [`init_zero_frame`] has not run.
pub fn zero_frame() -> PhysFrame<Size4KiB> {
    *ZERO_FRAME
        .get()
        .expect("frames::init_zero_frame not called")
}
