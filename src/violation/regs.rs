//! General-purpose register numbers and the trap-frame register file trait.
//!
//! Registers are numbered as the x86 instruction encoding numbers them
//! (ModRM.reg/rm and SIB fields, extended by REX.R/X/B): 0 = rax, 1 = rcx,
//! 2 = rdx, 3 = rbx, 4 = rsp, 5 = rbp, 6 = rsi, 7 = rdi, 8..=15 = r8..r15
//! (SDM vol. 2A §2.1.5, table 2-2 / §2.2.1.2).

use core::fmt;

use crate::arch::Mode;

/// A general-purpose register, by its encoding number (always 0..=15).
///
/// Only 0..=7 exist in a 32-bit process; the decoder never produces 8..=15
/// in [`Mode::Compat32`] because REX prefixes do not exist there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gpr(u8);

impl Gpr {
    /// `rax` / `eax` (encoding 0).
    pub const RAX: Gpr = Gpr(0);
    /// `rcx` / `ecx` (encoding 1).
    pub const RCX: Gpr = Gpr(1);
    /// `rdx` / `edx` (encoding 2).
    pub const RDX: Gpr = Gpr(2);
    /// `rbx` / `ebx` (encoding 3).
    pub const RBX: Gpr = Gpr(3);
    /// `rsp` / `esp` (encoding 4).
    pub const RSP: Gpr = Gpr(4);
    /// `rbp` / `ebp` (encoding 5).
    pub const RBP: Gpr = Gpr(5);
    /// `rsi` / `esi` (encoding 6).
    pub const RSI: Gpr = Gpr(6);
    /// `rdi` / `edi` (encoding 7).
    pub const RDI: Gpr = Gpr(7);
    /// `r8` (encoding 8, 64-bit mode only).
    pub const R8: Gpr = Gpr(8);
    /// `r9` (encoding 9, 64-bit mode only).
    pub const R9: Gpr = Gpr(9);
    /// `r10` (encoding 10, 64-bit mode only).
    pub const R10: Gpr = Gpr(10);
    /// `r11` (encoding 11, 64-bit mode only).
    pub const R11: Gpr = Gpr(11);
    /// `r12` (encoding 12, 64-bit mode only).
    pub const R12: Gpr = Gpr(12);
    /// `r13` (encoding 13, 64-bit mode only).
    pub const R13: Gpr = Gpr(13);
    /// `r14` (encoding 14, 64-bit mode only).
    pub const R14: Gpr = Gpr(14);
    /// `r15` (encoding 15, 64-bit mode only).
    pub const R15: Gpr = Gpr(15);

    /// The register with encoding `number`, or `None` if `number > 15`.
    pub const fn new(number: u8) -> Option<Gpr> {
        if number <= 15 {
            Some(Gpr(number))
        } else {
            None
        }
    }

    /// Builds a register from the low four bits of `bits` (what a 3-bit
    /// ModRM/SIB field plus its REX extension bit can hold).
    pub(crate) const fn from_low_bits(bits: u8) -> Gpr {
        Gpr(bits & 0xF)
    }

    /// The encoding number, 0..=15.
    pub const fn number(self) -> u8 {
        self.0
    }

    /// The encoding number as an array index, always `< 16`.
    ///
    /// A trap frame stored as `[u64; 16]` in encoding order can be indexed
    /// with this without a bounds failure.
    pub const fn index(self) -> usize {
        self.0 as usize
    }

    /// The AT&T name of the register at the natural width of `mode`
    /// (`"rax"` in 64-bit mode, `"eax"` in 32-bit mode).
    ///
    /// Registers 8..=15 have no 32-bit-mode name; they are shown as
    /// `"r8d"`..`"r15d"` should one ever be asked for.
    pub const fn name(self, mode: Mode) -> &'static str {
        const NAMES_64: [&str; 16] = [
            "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11",
            "r12", "r13", "r14", "r15",
        ];
        const NAMES_32: [&str; 16] = [
            "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d",
            "r12d", "r13d", "r14d", "r15d",
        ];
        let i = (self.0 & 0xF) as usize;
        match mode {
            Mode::Long64 => NAMES_64[i],
            Mode::Compat32 => NAMES_32[i],
        }
    }
}

impl fmt::Display for Gpr {
    /// Prints the 64-bit name, e.g. `rsp` or `r12`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name(Mode::Long64))
    }
}

/// Read access to the user registers saved in the trap frame of a #BR.
///
/// The kernel implements this over whatever its exception entry code saved.
/// Values are the full 64-bit registers; for a 32-bit process the report
/// builder uses only the low 32 bits, so an implementation need not clear
/// the upper halves.
///
/// Nothing here is `unsafe`: a wrong value gives a wrong report, never
/// memory unsafety.
pub trait RegisterFile {
    /// The value of general-purpose register `reg` (encoding order, see
    /// [`Gpr`]).
    fn gpr(&self, reg: Gpr) -> u64;

    /// The saved instruction pointer, i.e. the address of the faulting
    /// instruction (#BR is a fault).
    fn rip(&self) -> u64;
}

impl<T: RegisterFile + ?Sized> RegisterFile for &T {
    fn gpr(&self, reg: Gpr) -> u64 {
        (**self).gpr(reg)
    }

    fn rip(&self) -> u64 {
        (**self).rip()
    }
}

/// A plain register snapshot: sixteen GPRs in encoding order plus RIP.
///
/// Handy for kernels whose trap frame is not in encoding order (copy into
/// this first), for the simulator and for tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RegisterSnapshot {
    /// General-purpose registers, indexed by [`Gpr::index`].
    pub gprs: [u64; 16],
    /// The instruction pointer of the faulting instruction.
    pub rip: u64,
}

impl RegisterSnapshot {
    /// A snapshot with the given registers and RIP.
    pub const fn new(gprs: [u64; 16], rip: u64) -> Self {
        RegisterSnapshot { gprs, rip }
    }

    /// Returns a copy with register `reg` set to `value` (builder style).
    #[must_use]
    pub const fn with(mut self, reg: Gpr, value: u64) -> Self {
        self.gprs[reg.index()] = value;
        self
    }
}

impl RegisterFile for RegisterSnapshot {
    fn gpr(&self, reg: Gpr) -> u64 {
        self.gprs[reg.index()]
    }

    fn rip(&self) -> u64 {
        self.rip
    }
}
