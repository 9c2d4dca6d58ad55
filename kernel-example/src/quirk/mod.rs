//! Boot probes: how this CPU (or emulator) really executes the MPX instructions the
//! kernel and its programs rely on, measured before any process runs.
//!
//! Three emulator bugs are known (README, "QEMU MPX bugs"), and each has a probe:
//! - **A**, bounds-directory base: QEMU computes the 64-bit base as
//!   `(BNDCFGx >> 20) << 12` instead of bits 63:12 (SDM). The probe runs one `BNDSTX`
//!   into an empty directory and reads the entry address back from BNDSTATUS; the
//!   kernel then encodes BNDCFGU so that the *effective* base is the one wanted
//!   ([`encode_bndcfg`]), and the crate is always handed the effective base.
//! - **B**, instruction length: QEMU 7.2 decodes the SIB byte (and displacement) of
//!   `BNDSTX`/`BNDLDX` twice and skips that many bytes after them. The ring-3
//!   programs follow every SIB-form `BNDSTX`/`BNDLDX` with one `nop`: skipped there,
//!   executed elsewhere; so the probe must find at most one byte skipped.
//! - **C**, register operands: QEMU 10 checks `2·RAX` in register-form
//!   `BNDCL`/`BNDCU`/`BNDCN`, whatever register the instruction names. The programs
//!   use memory forms (`bndcu bnd0, [rcx]`), which the probe must find correct.
//!
//! Every probe also runs in compatibility mode (ring 0, a 32-bit code segment), for
//! 32-bit processes: there the directory base comes from BNDCFGx bits 31:12 and the
//! tables have 16-byte entries. The probes run in a scratch address space through
//! [`harness`]; whatever a CPU does, a probe reports it and the boot goes on.

pub mod harness;
mod probes;

pub use harness::CpuMode;
pub use probes::{BaseProbe, Findings};

/// How the CPU turns BNDCFGx into a bounds-directory base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseDecoding {
    /// Bits 63:12 (31:12 in 32-bit mode), as the SDM says.
    Architectural,
    /// `(cfg >> 20) << 12` (QEMU TCG, 64-bit mode: bug A).
    ShiftedBy20,
}

/// The directory base a CPU with `decoding` derives from `cfg` in `mode`.
pub fn effective_base(decoding: BaseDecoding, mode: CpuMode, cfg: u64) -> u64 {
    match (decoding, mode) {
        (BaseDecoding::Architectural, CpuMode::Long64) => cfg & !0xfff,
        (BaseDecoding::Architectural, CpuMode::Compat32) => cfg & 0xffff_f000,
        (BaseDecoding::ShiftedBy20, _) => (cfg >> 20) << 12,
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

static FINDINGS: spin::Once<Findings> = spin::Once::new();

/// Runs every probe (kernel mode, at boot, before any process and before SMEP:
/// the probes run ring-0 code from user pages of a scratch address space) and keeps
/// the findings.
pub fn probe() -> &'static Findings {
    FINDINGS.call_once(probes::run)
}

/// The 64-bit directory-base decoding found by [`probe`].
///
/// # Panics
/// If [`probe`] has not run or found no decoding (the kernel then runs no process).
pub fn decoding() -> BaseDecoding {
    match FINDINGS.get().expect("quirk::probe not run").long.base {
        BaseProbe::Found(decoding) => decoding,
        other => panic!("no directory-base decoding: {:?}", other),
    }
}
