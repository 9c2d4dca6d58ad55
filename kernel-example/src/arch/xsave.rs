//! Per-task XSAVE areas: where a process's extended state (x87, SSE, the bound
//! registers, BNDCFGU and BNDSTATUS) lives while the kernel runs, read and written
//! with the `mpx` crate's standard-format parsers (`mpx::arch::xsave`,
//! `BoundRegisters::from_xsave`).
//!
//! Every trap from ring 3 saves the whole state here and every return restores it
//! ([`XsaveArea::save`] / [`XsaveArea::restore`] with [`ALL`]): the kernel's own
//! code uses SSE registers (LLVM emits them for copies and zeroing), which must never
//! leak into, or clobber, a process's.

use super::cpu::layout;
use core::arch::asm;
use mpx::arch::xsave::{read_bndcsr, write_bndcfgu};
use mpx::arch::{BndStatus, Bndcfg};
use mpx::violation::BoundRegisters;

/// Every state component XCR0 enables (XSAVE and XRSTOR take the mask ANDed with XCR0).
pub const ALL: u64 = u64::MAX;

/// Offset of MXCSR in the legacy region of an XSAVE image.
pub const MXCSR_OFFSET: usize = 24;
/// Offset of MXCSR_MASK in the legacy region.
pub const MXCSR_MASK_OFFSET: usize = 28;
/// MXCSR at reset: every SSE exception masked, round to nearest.
pub const MXCSR_DEFAULT: u32 = 0x1f80;

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
    /// An area with every component in its init state (XSTATE_BV 0) and MXCSR at
    /// its reset value (XRSTOR loads MXCSR from the image even for an init SSE state).
    pub fn new() -> XsaveArea {
        let layout =
            core::alloc::Layout::from_size_align(layout().size, 64).expect("valid xsave layout");
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc::alloc::alloc_zeroed(layout) };
        assert!(!ptr.is_null(), "out of heap for an XSAVE area");
        let mut area = XsaveArea { ptr, layout };
        area.bytes_mut()[MXCSR_OFFSET..MXCSR_OFFSET + 4]
            .copy_from_slice(&MXCSR_DEFAULT.to_le_bytes());
        area
    }

    /// Every component back to its init state (XSTATE_BV 0, MXCSR at reset): what a
    /// signal handler starts with.
    pub fn reset_to_init(&mut self) {
        let bytes = self.bytes_mut();
        bytes.fill(0);
        bytes[MXCSR_OFFSET..MXCSR_OFFSET + 4].copy_from_slice(&MXCSR_DEFAULT.to_le_bytes());
    }

    /// The image's size in bytes.
    pub fn size(&self) -> usize {
        self.layout.size()
    }

    /// The area's bytes (a standard-format XSAVE image).
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` points at `layout.size()` bytes this value owns, initialised
        // (allocated zeroed, then written by XSAVE or the setters below).
        unsafe { core::slice::from_raw_parts(self.ptr, self.layout.size()) }
    }

    /// The area's bytes, to change (the caller keeps the image valid for XRSTOR:
    /// see [`XsaveArea::load_checked`] for images from user memory).
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`, and `&mut self` makes the borrow exclusive.
        unsafe { core::slice::from_raw_parts_mut(self.ptr, self.layout.size()) }
    }

    /// BNDCFGU and BNDSTATUS as saved; `None` if component 4 is in its init state.
    pub fn bndcsr(&self) -> Option<(Bndcfg, BndStatus)> {
        read_bndcsr(self.bytes())
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

/// Why an XSAVE image from user memory (a signal frame's) cannot be loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageError {
    /// Shorter than the legacy region (and the header, unless only the legacy
    /// region is taken).
    Short,
    /// The header names components XCR0 does not enable, is compacted, or has
    /// bytes 8..23 set: XRSTOR of the standard form would raise #GP (SDM vol. 1,
    /// 13.8). Compacted images are not taken (the kernel only ever writes the
    /// standard form).
    Header,
    /// MXCSR has bits the CPU reserves: XRSTOR would raise #GP.
    Mxcsr,
    /// BNDCFGU has reserved bits (11:2) set.
    Bndcfgu,
}

impl XsaveArea {
    /// Loads `image` (a standard-format XSAVE image from user memory) into this area,
    /// after checking everything XRSTOR would fault on, so that restoring it later
    /// cannot fault in the kernel. Only the components in `features` are taken, the
    /// others go to their init state. With `legacy_only` only the legacy x87/SSE
    /// region is read (Linux's answer to a signal frame whose XSAVE magic does not
    /// check out: FXRSTOR, the rest initialised). On an error the area is unchanged.
    pub fn load_user_image(
        &mut self,
        image: &[u8],
        features: u64,
        legacy_only: bool,
    ) -> Result<(), ImageError> {
        const LEGACY: usize = 512;
        const HEADER: usize = 64;
        if image.len() < LEGACY + if legacy_only { 0 } else { HEADER } {
            return Err(ImageError::Short);
        }
        let word =
            |at: usize| u64::from_le_bytes(image[at..at + 8].try_into().unwrap_or([0xff; 8]));
        let mxcsr = word(MXCSR_OFFSET) as u32;
        if mxcsr & !mxcsr_mask() != 0 {
            return Err(ImageError::Mxcsr);
        }
        let xstate_bv = if legacy_only {
            0b11
        } else {
            let (bv, xcomp, reserved) = (word(LEGACY), word(LEGACY + 8), word(LEGACY + 16));
            if bv & !super::cpu::XCR0_BITS != 0 || xcomp != 0 || reserved != 0 {
                return Err(ImageError::Header);
            }
            let bv = bv & features;
            // (No canonical check on the base: the kernel's own encoding for QEMU's
            // bug A is not canonical, and XRSTOR takes it.)
            if bv & mpx::arch::xsave::XSTATE_BNDCSR != 0
                && word(mpx::arch::xsave::BNDCSR_OFFSET) & 0xffc != 0
            {
                return Err(ImageError::Bndcfgu);
            }
            bv
        };
        let len = if legacy_only {
            LEGACY
        } else {
            image.len().min(self.size())
        };
        let area = self.bytes_mut();
        area[..len].copy_from_slice(&image[..len]);
        // (The legacy region's bytes 464..511 are the software's: XRSTOR ignores them.)
        area[LEGACY..LEGACY + HEADER].fill(0);
        area[LEGACY..LEGACY + 8].copy_from_slice(&xstate_bv.to_le_bytes());
        if xstate_bv & 0b10 == 0 {
            // SSE not taken: MXCSR (which XRSTOR loads from the legacy region
            // whenever SSE is requested) at its init value too.
            area[MXCSR_OFFSET..MXCSR_OFFSET + 4].copy_from_slice(&MXCSR_DEFAULT.to_le_bytes());
        }
        Ok(())
    }
}

/// The MXCSR bits this CPU accepts (MXCSR_MASK from an FXSAVE image; 0 there means
/// the architectural default 0xFFBF, SDM vol. 1, 11.6.6).
fn mxcsr_mask() -> u32 {
    static MASK: spin::Once<u32> = spin::Once::new();
    *MASK.call_once(|| {
        #[repr(C, align(16))]
        struct Legacy([u8; 512]);
        let mut area = Legacy([0; 512]);
        // SAFETY: FXSAVE writes 512 bytes to a 16-byte-aligned buffer of that size.
        unsafe { asm!("fxsave64 [{}]", in(reg) area.0.as_mut_ptr(), options(nostack)) };
        let mask = u32::from_le_bytes(
            area.0[MXCSR_MASK_OFFSET..MXCSR_MASK_OFFSET + 4]
                .try_into()
                .unwrap_or([0; 4]),
        );
        if mask == 0 {
            0xffbf
        } else {
            mask
        }
    })
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

/// Puts x87 and SSE in a known state for the kernel's own use (after the process's
/// state was saved): `FNINIT`, and MXCSR with every exception masked, so that nothing a
/// process left there (unmasked exceptions, odd rounding) reaches kernel code.
pub fn reset_kernel_fpu() {
    let mxcsr: u32 = MXCSR_DEFAULT;
    // SAFETY: FNINIT and LDMXCSR only change x87/SSE control state, which the kernel
    // does not rely on across this call; the MXCSR value has no reserved bit set.
    unsafe {
        core::arch::asm!("fninit", "ldmxcsr [{}]", in(reg) &mxcsr, options(nostack));
    }
}
