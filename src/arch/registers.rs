//! BNDCFGU/BNDCFGS and BNDSTATUS: the MPX configuration and status registers.
//!
//! Layouts from the Intel SDM vol. 1 §17.3: BNDCFGx holds EN (bit 0),
//! BNDPRESERVE (bit 1) and the directory base (bits 63:12); BNDSTATUS holds the
//! error code (bits 1:0) and the address of the directory entry that faulted
//! (bits 63:2). BNDCFGS is MSR `IA32_BNDCFGS` (0xD90); BNDCFGU is reached only
//! through XSAVE component 4 (see [`super::xsave`]).

use bitflags::bitflags;

bitflags! {
    /// The flag bits of BNDCFGU / BNDCFGS.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct BndcfgFlags: u64 {
        /// MPX is enabled at this privilege level.
        const ENABLE = 1 << 0;
        /// Branches without the BND prefix keep the bound registers.
        const BNDPRESERVE = 1 << 1;
    }
}

/// A BNDCFGU or BNDCFGS value.
#[doc(alias = "BNDCFGU")]
#[doc(alias = "BNDCFGS")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Bndcfg(u64);

impl Bndcfg {
    /// Number of the `IA32_BNDCFGS` MSR (the supervisor copy).
    pub const MSR_BNDCFGS: u32 = 0xD90;

    /// Mask of the reserved bits 11:2.
    pub const RESERVED: u64 = 0xFFC;

    /// Mask of the base field, bits 63:12.
    pub const BASE_MASK: u64 = !0xFFF;

    /// Wraps a raw register value.
    pub const fn from_raw(raw: u64) -> Bndcfg {
        Bndcfg(raw)
    }

    /// Builds a value from a 4 KiB-aligned base and flags; `None` if `base` is misaligned.
    pub const fn new(base: u64, flags: BndcfgFlags) -> Option<Bndcfg> {
        if base & !Self::BASE_MASK != 0 {
            None
        } else {
            Some(Bndcfg(base | flags.bits()))
        }
    }

    /// The raw register value.
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// The known flag bits.
    pub const fn flags(self) -> BndcfgFlags {
        BndcfgFlags::from_bits_truncate(self.0)
    }

    /// Whether EN is set.
    pub const fn is_enabled(self) -> bool {
        self.0 & BndcfgFlags::ENABLE.bits() != 0
    }

    /// Whether any reserved bit (11:2) is set.
    pub const fn has_reserved_bits(self) -> bool {
        self.0 & Self::RESERVED != 0
    }

    /// The directory base as the SDM defines it: bits 63:12.
    ///
    /// This is the *architectural* decoding. A CPU (or emulator) may walk
    /// another address; kernels hand [`crate::manager::MpxManager`] the base
    /// the CPU really uses.
    pub const fn base(self) -> u64 {
        self.0 & Self::BASE_MASK
    }
}

/// The BNDSTATUS error code (bits 1:0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BoundsErrorCode {
    /// 0: the #BR did not come from MPX (for example the legacy BOUND instruction).
    NotMpx,
    /// 1: BNDCL, BNDCU or BNDCN found the address out of bounds.
    BoundRange,
    /// 2: BNDLDX or BNDSTX found a directory entry without the valid bit.
    InvalidDirectoryEntry,
    /// 3: reserved by the architecture.
    Reserved,
}

/// A BNDSTATUS value.
#[doc(alias = "BNDSTATUS")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct BndStatus(u64);

impl BndStatus {
    /// Wraps a raw register value.
    pub const fn from_raw(raw: u64) -> BndStatus {
        BndStatus(raw)
    }

    /// The raw register value.
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// The error code, bits 1:0.
    pub const fn code(self) -> BoundsErrorCode {
        match self.0 & 0b11 {
            0 => BoundsErrorCode::NotMpx,
            1 => BoundsErrorCode::BoundRange,
            2 => BoundsErrorCode::InvalidDirectoryEntry,
            _ => BoundsErrorCode::Reserved,
        }
    }

    /// The address of the directory entry that faulted (bits 63:2); meaningful for code 2.
    pub const fn entry_address(self) -> u64 {
        self.0 & !0b11
    }
}

/// Reading and writing `IA32_BNDCFGS` (ring 0 only).
#[cfg(target_arch = "x86_64")]
pub mod msr {
    use super::Bndcfg;
    use x86_64::registers::model_specific::Msr;

    /// Reads `IA32_BNDCFGS`.
    ///
    /// # Safety
    /// Must run at CPL 0 on a CPU that has MPX (CPUID.(7,0).EBX bit 14); otherwise
    /// RDMSR raises #GP.
    pub unsafe fn read_bndcfgs() -> Bndcfg {
        // SAFETY: the caller guarantees CPL 0 and an MPX CPU, so the MSR exists.
        Bndcfg::from_raw(unsafe { Msr::new(Bndcfg::MSR_BNDCFGS).read() })
    }

    /// Writes `IA32_BNDCFGS`.
    ///
    /// # Safety
    /// Must run at CPL 0 on an MPX CPU; the base must be canonical and the
    /// reserved bits clear (else #GP). Enabling MPX in ring 0 makes the
    /// kernel's own MPX instructions use this directory.
    pub unsafe fn write_bndcfgs(value: Bndcfg) {
        // SAFETY: the caller guarantees CPL 0, an MPX CPU and a legal value.
        unsafe { Msr::new(Bndcfg::MSR_BNDCFGS).write(value.raw()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes() {
        let cases = [
            (0x0, BoundsErrorCode::NotMpx, 0),
            (0x1, BoundsErrorCode::BoundRange, 0),
            (
                0x7fff_0000_1232,
                BoundsErrorCode::InvalidDirectoryEntry,
                0x7fff_0000_1230,
            ),
            (
                0x7fff_0000_1233,
                BoundsErrorCode::Reserved,
                0x7fff_0000_1230,
            ),
        ];
        for (raw, code, addr) in cases {
            let s = BndStatus::from_raw(raw);
            assert_eq!(s.code(), code);
            assert_eq!(s.entry_address(), addr);
        }
    }

    #[test]
    fn config_decode() {
        let c = Bndcfg::from_raw(0x7f00_0000_0003);
        assert!(c.is_enabled());
        assert_eq!(c.base(), 0x7f00_0000_0000);
        assert_eq!(c.flags(), BndcfgFlags::ENABLE | BndcfgFlags::BNDPRESERVE);
        assert!(!Bndcfg::from_raw(0x7f00_0000_0002).is_enabled());
        assert!(Bndcfg::from_raw(0x7f00_0000_0010).has_reserved_bits());
        assert_eq!(Bndcfg::new(0x1001, BndcfgFlags::ENABLE), None);
        assert_eq!(
            Bndcfg::new(0x2000, BndcfgFlags::ENABLE).map(Bndcfg::raw),
            Some(0x2001)
        );
    }
}
