//! Boot probe for how the CPU decodes the bounds-directory base in BNDCFGx.
//!
//! The SDM puts the directory base in BNDCFGx bits 63:12. QEMU's TCG (up to at least
//! 7.2 and upstream at the time of writing) computes it as `(BNDCFGx >> 20) << 12`
//! instead. The probe finds out which one this CPU uses: it enables supervisor MPX with
//! a directory at a known address `WANT` (both candidate directories mapped and zero),
//! runs one `BNDSTX` for linear address 0, and reads the directory-entry address from
//! BNDSTATUS in the resulting `#BR` (code 2). The `#BR` handler then turns supervisor MPX
//! off again and the instruction re-executes as a no-op.
//!
//! [`encode_bndcfg`] then produces the configuration value whose *effective* base is the
//! one wanted, on either kind of CPU; the crate is always handed the effective base.

use crate::cpu::{self, XsaveArea, XFEATURE_BNDCSR};
use crate::{frames, paging};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// How the CPU turns BNDCFGx into a bounds-directory base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseDecoding {
    /// Bits 63:12 (SDM).
    Architectural,
    /// `(cfg >> 20) << 12` (QEMU TCG).
    ShiftedBy20,
}

/// Directory base used by the probe (1 TiB): far from both formulas' other answer.
const WANT: u64 = 0x100_0000_0000;

static PROBING: AtomicBool = AtomicBool::new(false);
static PROBE_STATUS: AtomicU64 = AtomicU64::new(0);
static DECODING: spin::Once<BaseDecoding> = spin::Once::new();

/// The directory base a CPU with `decoding` derives from `cfg`.
pub fn effective_base(decoding: BaseDecoding, cfg: u64) -> u64 {
    match decoding {
        BaseDecoding::Architectural => cfg & !0xfff,
        BaseDecoding::ShiftedBy20 => (cfg >> 20) << 12,
    }
}

/// The BNDCFGx value whose effective directory base is `base` (4 KiB aligned), with
/// `flags` (EN, BNDPRESERVE) in the low bits.
pub fn encode_bndcfg(decoding: BaseDecoding, base: u64, flags: u64) -> u64 {
    match decoding {
        BaseDecoding::Architectural => base | flags,
        BaseDecoding::ShiftedBy20 => ((base >> 12) << 20) | flags,
    }
}

/// The decoding found by [`probe`].
pub fn decoding() -> BaseDecoding {
    *DECODING.get().expect("quirk::probe not run")
}

/// Runs the probe (kernel mode, before any process). Returns the decoding, or the
/// BNDSTATUS seen if it matches neither formula (0: no `#BR` at all).
pub fn probe() -> Result<BaseDecoding, u64> {
    let cfg = WANT | 1;
    let candidates = [
        (
            BaseDecoding::Architectural,
            effective_base(BaseDecoding::Architectural, cfg),
        ),
        (
            BaseDecoding::ShiftedBy20,
            effective_base(BaseDecoding::ShiftedBy20, cfg),
        ),
    ];
    // A scratch address space whose low half holds both candidate directory pages.
    let root = paging::new_user_root().expect("frame for the probe");
    for &(_, base) in &candidates {
        let frame = frames::alloc().expect("frame for the probe");
        paging::map_user(root, base, frame, true).expect("map the probe page");
    }
    paging::activate(root);
    PROBING.store(true, Ordering::SeqCst);
    // SAFETY: BNDCFGS = WANT | EN: a valid value (reserved bits clear, canonical base).
    // The only MPX instruction run while it is set is the probe's BNDSTX below; the
    // kernel has no BND-prefixed branches.
    unsafe { cpu::write_bndcfgs(cfg) };
    // SAFETY: BNDSTX [rdi+rcx], bnd0 with rdi = rcx = 0 (bytes 0f 1b 04 0f), then one
    // NOP that QEMU's length bug swallows. It raises #BR code 2 (both candidate entries
    // are zero and mapped); the handler disables MPX and the retry is a no-op. It
    // touches no memory besides the directory entry it reads.
    unsafe {
        core::arch::asm!(".byte 0x0f, 0x1b, 0x04, 0x0f", "nop",
                         in("rdi") 0u64, in("rcx") 0u64, options(nostack));
    }
    PROBING.store(false, Ordering::SeqCst);
    // SAFETY: turning supervisor MPX off (again) is always valid.
    unsafe { cpu::write_bndcfgs(0) };
    paging::activate(paging::kernel_root());
    for &(_, base) in &candidates {
        if let Some(frame) = paging::unmap_user(root, base) {
            frames::free(frame);
        }
    }
    paging::free_user_root(root);

    let status = PROBE_STATUS.load(Ordering::SeqCst);
    let found = candidates
        .iter()
        .find(|&&(_, base)| status == base | 2)
        .map(|&(decoding, _)| decoding)
        .ok_or(status)?;
    DECODING.call_once(|| found);
    Ok(found)
}

/// Called by the `#BR` handler for a kernel-mode `#BR`: returns whether it was the
/// probe's (and then records BNDSTATUS and turns supervisor MPX off).
pub fn on_kernel_bound_fault() -> bool {
    if !PROBING.load(Ordering::SeqCst) {
        return false;
    }
    let mut area = XsaveArea::new();
    area.save(XFEATURE_BNDCSR);
    PROBE_STATUS.store(area.bndstatus(), Ordering::SeqCst);
    // SAFETY: disabling supervisor MPX is always valid; the faulting BNDSTX then
    // re-executes as a no-op.
    unsafe { cpu::write_bndcfgs(0) };
    true
}
