//! CPU feature checks and XSAVE/MPX state setup (CR4.OSXSAVE, XCR0, SMEP/SMAP).
//!
//! The kernel enables x87, SSE and the two MPX state components in XCR0 and keeps
//! supervisor MPX off (`IA32_BNDCFGS` = 0 outside the boot probes). Tasks get an XSAVE
//! area ([`super::xsave::XsaveArea`]) sized from CPUID leaf 0xD. MSR numbers, XSAVE
//! component bits and offsets come from the `mpx` crate (`mpx::arch`).

use core::arch::x86_64::{__cpuid, __cpuid_count};
use core::sync::atomic::{AtomicBool, Ordering};
use mpx::arch::xsave::{BNDCSR_OFFSET, BNDREGS_OFFSET, XSTATE_BNDCSR, XSTATE_BNDREGS};
use mpx::arch::Bndcfg;
use x86_64::registers::control::{Cr4, Cr4Flags};
use x86_64::registers::model_specific::{Efer, EferFlags, FsBase};
use x86_64::registers::xcontrol::{XCr0, XCr0Flags};

/// What the CPU lacks for this kernel.
#[derive(Clone, Copy, Debug)]
pub enum Missing {
    /// CPUID.1:ECX.XSAVE is clear.
    Xsave,
    /// CPUID.(7,0):EBX.MPX (bit 14) is clear.
    Mpx,
    /// CPUID.(0xD,0):EAX does not offer both MPX state components.
    MpxStateComponents,
    /// The standard-format XSAVE offsets of components 3 and 4 are not the ones the
    /// `mpx` crate's parsers use (960 and 1024).
    XsaveLayout,
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

/// The state components the kernel enables in XCR0: x87, SSE, BNDREGS and BNDCSR
/// (no AVX: a process sees it absent through XGETBV, as glibc checks).
pub const XCR0_BITS: u64 = 0b1_1011;

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
    let wanted = XSTATE_BNDREGS | XSTATE_BNDCSR;
    if u64::from(leaf_d.eax) & wanted != wanted {
        return Err(Missing::MpxStateComponents);
    }
    // SAFETY: XSAVE is supported (checked above); setting OSXSAVE only enables
    // XGETBV/XSETBV and the XSAVE family.
    unsafe { Cr4::update(|flags| flags.insert(Cr4Flags::OSXSAVE)) };
    let xcr0 = XCr0Flags::from_bits_truncate(XCR0_BITS);
    // SAFETY: every component is supported (checked via CPUID.(0xD,0).EAX, x87 and
    // SSE always are) and BNDREGS/BNDCSR are set together as the SDM requires.
    unsafe { XCr0::write(xcr0) };
    // EBX of leaf 0xD sub-leaf 0 now reflects the XCR0 just written.
    let (size, bndregs, bndcsr) = (
        __cpuid_count(0xD, 0).ebx as usize,
        __cpuid_count(0xD, 3).ebx as usize,
        __cpuid_count(0xD, 4).ebx as usize,
    );
    if (bndregs, bndcsr) != (BNDREGS_OFFSET, BNDCSR_OFFSET) {
        return Err(Missing::XsaveLayout);
    }
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

/// Writes `IA32_BNDCFGS` (through the crate's `mpx::arch::registers::msr`).
///
/// # Safety
/// `value` must be a valid BNDCFGS value (reserved bits clear, canonical base);
/// enabling supervisor MPX makes every kernel MPX-prefixed branch and bound
/// instruction live.
pub unsafe fn write_bndcfgs(value: u64) {
    // SAFETY: forwarded to the caller; MPX support was checked by `init`, and the
    // kernel runs at CPL 0.
    unsafe { mpx::arch::registers::msr::write_bndcfgs(Bndcfg::from_raw(value)) };
}

/// Turns on no-execute pages (EFER.NXE) if the CPU has them; returns whether it does.
/// Page-table entries may carry `NO_EXECUTE` only afterwards.
pub fn enable_no_execute() -> bool {
    let max = __cpuid(0x8000_0000).eax;
    let nx = max >= 0x8000_0001 && __cpuid(0x8000_0001).edx & (1 << 20) != 0;
    if nx {
        // SAFETY: NX is supported (CPUID); no entry sets NO_EXECUTE before this.
        unsafe { Efer::update(|f| f.insert(EferFlags::NO_EXECUTE_ENABLE)) };
    }
    NX.store(nx, Ordering::Relaxed);
    nx
}

static NX: AtomicBool = AtomicBool::new(false);

/// Whether [`enable_no_execute`] turned no-execute pages on.
pub fn no_execute() -> bool {
    NX.load(Ordering::Relaxed)
}

/// Sets `IA32_FS_BASE` (the running process's TLS pointer); `false` if `base` is
/// not canonical.
pub fn set_fs_base(base: u64) -> bool {
    match x86_64::VirtAddr::try_new(base) {
        Ok(address) => {
            FsBase::write(address);
            true
        }
        Err(_) => false,
    }
}

/// `IA32_FS_BASE`.
pub fn fs_base() -> u64 {
    FsBase::read().as_u64()
}
