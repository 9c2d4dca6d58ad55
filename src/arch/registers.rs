//! BNDCFGU/BNDCFGS and BNDSTATUS: the MPX configuration and status registers.
//!
//! Layouts from the Intel SDM vol. 1 §17.3: BNDCFGx holds EN (bit 0),
//! BNDPRESERVE (bit 1) and the directory base (bits 63:12); BNDSTATUS holds the
//! error code (bits 1:0) and the address of the directory entry that faulted
//! (bits 63:2). BNDCFGS is MSR `IA32_BNDCFGS` (0xD90); BNDCFGU is reached only
//! through XSAVE component 4 (see [`super::xsave`]).

use bitflags::bitflags;
use core::fmt;

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

/// What a #BR means, decoded once from BNDSTATUS (SDM vol. 1 §17.3.3): the
/// error code in bits 1:0 and, for code 2, the address of the directory entry
/// in bits 63:2.
///
/// Each cause has one operation: [`BrCause::MissingTable`] goes to
/// [`MpxManager::allocate_table`](crate::manager::MpxManager::allocate_table),
/// [`BrCause::Violation`] to
/// [`build_report`](crate::violation::build_report); the other two end in a
/// plain SIGSEGV. None is a reason to panic: user space can load BNDSTATUS
/// with XRSTOR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BrCause {
    /// Code 0: the #BR did not come from MPX (the legacy BOUND instruction in
    /// 32-bit code), or BNDCSR is in its init state.
    NotMpx,
    /// Code 1: BNDCL, BNDCU or BNDCN found the address out of bounds.
    Violation,
    /// Code 2: BNDLDX or BNDSTX found the directory entry at `entry` without
    /// its valid bit.
    MissingTable {
        /// Address of the directory entry: BNDSTATUS bits 63:2, all of them.
        /// In a 32-bit process the CPU writes a 32-bit address; higher bits
        /// can only come from a user XRSTOR and are kept, so that the entry
        /// falls outside the directory and the allocation refuses it rather
        /// than using a silently truncated address.
        entry: u64,
    },
    /// Code 3: reserved by the architecture; only a user XRSTOR produces it
    /// (Linux called `die()` here, a user-triggerable oops).
    Reserved,
}

impl fmt::Display for BrCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BrCause::NotMpx => f.write_str("#BR not raised by MPX (BNDSTATUS code 0)"),
            BrCause::Violation => f.write_str("bound violation (BNDSTATUS code 1)"),
            BrCause::MissingTable { entry } => {
                write!(
                    f,
                    "no bounds table at directory entry {entry:#x} (BNDSTATUS code 2)"
                )
            }
            BrCause::Reserved => f.write_str("reserved BNDSTATUS code 3"),
        }
    }
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

    /// What the #BR means: the only decoding of BNDSTATUS in the crate.
    pub const fn cause(self) -> BrCause {
        match self.0 & 0b11 {
            0 => BrCause::NotMpx,
            1 => BrCause::Violation,
            2 => BrCause::MissingTable {
                entry: self.0 & !0b11,
            },
            _ => BrCause::Reserved,
        }
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
    use std::string::ToString;

    #[test]
    fn status_causes() {
        let cases = [
            (0x0, BrCause::NotMpx),
            (0x1, BrCause::Violation),
            // Code 1 ignores the address bits.
            (0x1000_0005, BrCause::Violation),
            (
                0x7fff_0000_1232,
                BrCause::MissingTable {
                    entry: 0x7fff_0000_1230,
                },
            ),
            // All 62 address bits are kept, whatever the process's mode.
            (
                0xffff_8000_1234_5672,
                BrCause::MissingTable {
                    entry: 0xffff_8000_1234_5670,
                },
            ),
            (0x7fff_0000_1233, BrCause::Reserved),
            (u64::MAX, BrCause::Reserved),
        ];
        for (raw, cause) in cases {
            assert_eq!(BndStatus::from_raw(raw).cause(), cause, "{raw:#x}");
        }
        assert_eq!(
            BrCause::MissingTable { entry: 0x10 }.to_string(),
            "no bounds table at directory entry 0x10 (BNDSTATUS code 2)"
        );
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
