//! CPU feature checks and XSAVE/MPX state setup (CR4.OSXSAVE, XCR0, XSAVE areas).
//!
//! The kernel enables x87, SSE and the two MPX state components in XCR0, keeps
//! supervisor MPX off (`IA32_BNDCFGS` = 0 outside the boot probe), and gives each task
//! an XSAVE area sized from CPUID leaf 0xD through which `BNDCFGU` is loaded
//! (`XRSTOR` of component 4) on the way to user mode.

use core::arch::asm;
use core::arch::x86_64::{__cpuid, __cpuid_count};
use x86_64::registers::control::{Cr4, Cr4Flags};
use x86_64::registers::xcontrol::{XCr0, XCr0Flags};

/// XSAVE component mask of the bound registers BND0-3 (component 3).
pub const XFEATURE_BNDREGS: u64 = 1 << 3;
/// XSAVE component mask of BNDCFGU and BNDSTATUS (component 4).
pub const XFEATURE_BNDCSR: u64 = 1 << 4;
/// `IA32_BNDCFGS`, the supervisor MPX configuration MSR.
pub const MSR_BNDCFGS: u32 = 0xD90;

/// What the CPU lacks for this kernel.
#[derive(Clone, Copy, Debug)]
pub enum Missing {
    /// CPUID.1:ECX.XSAVE is clear.
    Xsave,
    /// CPUID.(7,0):EBX.MPX (bit 14) is clear.
    Mpx,
    /// CPUID.(0xD,0):EAX does not offer both MPX state components.
    MpxStateComponents,
}

/// XSAVE layout facts read from CPUID leaf 0xD.
#[derive(Clone, Copy, Debug)]
pub struct XsaveLayout {
    /// Bytes of an XSAVE area for the enabled XCR0 (CPUID.(0xD,0).EBX).
    pub size: usize,
    /// Offset of component 3 (bound registers) in the standard format.
    pub bndregs_offset: usize,
    /// Offset of component 4 (BNDCFGU, BNDSTATUS) in the standard format.
    pub bndcsr_offset: usize,
}

static LAYOUT: spin::Once<XsaveLayout> = spin::Once::new();

/// Checks for XSAVE and MPX and enables the MPX state components.
pub fn init() -> Result<XsaveLayout, Missing> {
    let leaf1 = __cpuid(1);
    if leaf1.ecx & (1 << 26) == 0 {
        return Err(Missing::Xsave);
    }
    let leaf7 = __cpuid_count(7, 0);
    if leaf7.ebx & (1 << 14) == 0 {
        return Err(Missing::Mpx);
    }
    let leaf_d = __cpuid_count(0xD, 0);
    let wanted = XFEATURE_BNDREGS | XFEATURE_BNDCSR;
    if u64::from(leaf_d.eax) & wanted != wanted {
        return Err(Missing::MpxStateComponents);
    }
    // SAFETY: XSAVE is supported (checked above); setting OSXSAVE only enables
    // XGETBV/XSETBV and the XSAVE family.
    unsafe { Cr4::update(|flags| flags.insert(Cr4Flags::OSXSAVE)) };
    let xcr0 = XCr0Flags::X87 | XCr0Flags::SSE | XCr0Flags::BNDREG | XCr0Flags::BNDCSR;
    // SAFETY: every component is supported (checked via CPUID.(0xD,0).EAX, x87 and
    // SSE always are) and BNDREGS/BNDCSR are set together as the SDM requires.
    unsafe { XCr0::write(xcr0) };
    // EBX of leaf 0xD sub-leaf 0 now reflects the XCR0 just written.
    let (size, bndregs, bndcsr) = (
        __cpuid_count(0xD, 0).ebx as usize,
        __cpuid_count(0xD, 3).ebx as usize,
        __cpuid_count(0xD, 4).ebx as usize,
    );
    let layout = XsaveLayout {
        size,
        bndregs_offset: bndregs,
        bndcsr_offset: bndcsr,
    };
    LAYOUT.call_once(|| layout);
    Ok(layout)
}

/// Turns on SMEP and SMAP where the CPU has them: the kernel never executes or
/// dereferences user memory directly (it reaches user pages through the physical map),
/// so any such access is a bug worth a fault. Call after the boot probe, whose
/// directory pages are user pages. Returns (SMEP, SMAP) as enabled.
pub fn protect_user_memory() -> (bool, bool) {
    let leaf7 = __cpuid_count(7, 0);
    let smep = leaf7.ebx & (1 << 7) != 0;
    let smap = leaf7.ebx & (1 << 20) != 0;
    let mut add = Cr4Flags::empty();
    add.set(Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION, smep);
    add.set(Cr4Flags::SUPERVISOR_MODE_ACCESS_PREVENTION, smap);
    // SAFETY: both features are supported (CPUID), and the kernel neither runs user
    // code in ring 0 nor touches user virtual addresses (RFLAGS.AC stays clear).
    unsafe { Cr4::update(|flags| flags.insert(add)) };
    (smep, smap)
}

/// The XSAVE layout found by [`init`].
pub fn layout() -> XsaveLayout {
    *LAYOUT.get().expect("cpu::init not called")
}

/// Writes `IA32_BNDCFGS`.
///
/// # Safety
/// `value` must be a valid BNDCFGS value (reserved bits clear); enabling supervisor MPX
/// makes every kernel MPX-prefixed branch and bound instruction live.
pub unsafe fn write_bndcfgs(value: u64) {
    // SAFETY: forwarded to the caller; MPX support was checked by `init`.
    unsafe { x86_64::registers::model_specific::Msr::new(MSR_BNDCFGS).write(value) };
}

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
        let layout = core::alloc::Layout::from_size_align(self::layout().size, 64)
            .expect("valid xsave layout");
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc::alloc::alloc_zeroed(layout) };
        assert!(!ptr.is_null(), "out of heap for an XSAVE area");
        XsaveArea { ptr, layout }
    }

    fn u64_at(&self, offset: usize) -> u64 {
        assert!(offset + 8 <= self.layout.size());
        // SAFETY: in bounds (asserted) and 8-aligned offsets only.
        unsafe { self.ptr.add(offset).cast::<u64>().read() }
    }

    fn set_u64_at(&mut self, offset: usize, value: u64) {
        assert!(offset + 8 <= self.layout.size());
        // SAFETY: in bounds (asserted); we own the area.
        unsafe { self.ptr.add(offset).cast::<u64>().write(value) }
    }

    /// XSTATE_BV: which components hold non-init state.
    pub fn xstate_bv(&self) -> u64 {
        self.u64_at(512)
    }

    /// `BNDSTATUS` as saved (0 if component 4 is in its init state).
    pub fn bndstatus(&self) -> u64 {
        if self.xstate_bv() & XFEATURE_BNDCSR == 0 {
            return 0;
        }
        self.u64_at(layout().bndcsr_offset + 8)
    }

    /// Bound register `n` as saved: (lower, upper in one's complement), INIT = (0, 0).
    pub fn bound_register(&self, n: usize) -> (u64, u64) {
        if self.xstate_bv() & XFEATURE_BNDREGS == 0 {
            return (0, 0);
        }
        let base = layout().bndregs_offset + 16 * n;
        (self.u64_at(base), self.u64_at(base + 8))
    }

    /// Sets the saved `BNDCFGU` (and clears BNDSTATUS), marking component 4 non-init.
    pub fn set_bndcfgu(&mut self, value: u64) {
        let offset = layout().bndcsr_offset;
        self.set_u64_at(offset, value);
        self.set_u64_at(offset + 8, 0);
        let bv = self.xstate_bv() | XFEATURE_BNDCSR;
        self.set_u64_at(512, bv);
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
