//! How a CPU turns BNDCFGx into a bounds-directory base, and the encoding that gets
//! the base wanted on either kind (bug A).

use super::case::CpuMode;

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
