//! Per-task XSAVE areas: where the bound registers, BNDCFGU and BNDSTATUS of a
//! process live while the kernel runs, read and written with the `mpx` crate's
//! standard-format parsers (`mpx::arch::xsave`, `BoundRegisters::from_xsave`).

use super::cpu::layout;
use core::arch::asm;
use mpx::arch::xsave::{read_bndcsr, write_bndcfgu};
use mpx::arch::{BndStatus, Bndcfg};
use mpx::violation::BoundRegisters;

/// A 64-byte-aligned XSAVE area of [`XsaveLayout::size`] bytes on the heap.
pub struct XsaveArea {
    ptr: *mut u8,
    layout: core::alloc::Layout,
}

// SAFETY: the area is plain memory owned by this value.
unsafe impl Send for XsaveArea {}
// SAFETY: shared references only read through `bytes`.
unsafe impl Sync for XsaveArea {}

impl XsaveArea {
    /// A zeroed area (every component in its init state).
    pub fn new() -> XsaveArea {
        let layout =
            core::alloc::Layout::from_size_align(layout().size, 64).expect("valid xsave layout");
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc::alloc::alloc_zeroed(layout) };
        assert!(!ptr.is_null(), "out of heap for an XSAVE area");
        XsaveArea { ptr, layout }
    }

    /// The area's bytes (a standard-format XSAVE image).
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` points at `layout.size()` bytes this value owns, initialised
        // (allocated zeroed, then written by XSAVE or the setters below).
        unsafe { core::slice::from_raw_parts(self.ptr, self.layout.size()) }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`, and `&mut self` makes the borrow exclusive.
        unsafe { core::slice::from_raw_parts_mut(self.ptr, self.layout.size()) }
    }

    /// `BNDSTATUS` as saved (0 if component 4 is in its init state).
    pub fn bndstatus(&self) -> BndStatus {
        read_bndcsr(self.bytes()).map_or(BndStatus::from_raw(0), |(_, status)| status)
    }

    /// The bound registers as saved (INIT if component 3 is in its init state).
    pub fn bound_registers(&self) -> BoundRegisters {
        BoundRegisters::from_xsave(self.bytes()).unwrap_or(BoundRegisters::INIT)
    }

    /// Sets the saved `BNDCFGU` (and clears BNDSTATUS), marking component 4 non-init.
    pub fn set_bndcfgu(&mut self, value: u64) {
        let written = write_bndcfgu(self.bytes_mut(), Bndcfg::from_raw(value));
        debug_assert!(written, "the area holds component 4 (checked by cpu::init)");
        let status = mpx::arch::xsave::BNDCSR_OFFSET + 8;
        self.bytes_mut()[status..status + 8].fill(0);
    }

    /// `XSAVE` of the components in `mask` into this area.
    pub fn save(&mut self, mask: u64) {
        // SAFETY: the area is 64-byte aligned and `layout().size` bytes long, enough for
        // every enabled component; `mask` selects enabled components only.
        unsafe {
            asm!("xsave64 [{}]", in(reg) self.ptr, in("eax") mask as u32,
                 in("edx") (mask >> 32) as u32, options(nostack))
        };
    }

    /// `XRSTOR` of the components in `mask` from this area.
    pub fn restore(&self, mask: u64) {
        // SAFETY: the area is aligned, large enough, and its header was written by
        // `XSAVE` or by `set_bndcfgu` (XCOMP_BV zero, reserved bytes zero).
        unsafe {
            asm!("xrstor64 [{}]", in(reg) self.ptr, in("eax") mask as u32,
                 in("edx") (mask >> 32) as u32, options(nostack))
        };
    }
}

impl Default for XsaveArea {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for XsaveArea {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { alloc::alloc::dealloc(self.ptr, self.layout) };
    }
}
