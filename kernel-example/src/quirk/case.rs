//! What a probe case is: the mode, BNDCFGS, registers and bytes it runs with, what
//! it did, and where the stub keeps its state (shared by `emit` and `harness`).

/// Virtual address of the generated code.
pub const CODE: u64 = 0x1000_0000;
/// Virtual address of the data page (registers in and out, saved RSP, operands).
pub const DATA: u64 = 0x1000_1000;
/// First byte of the data page that cases may use for their operands.
pub const OPERANDS: u64 = DATA + 0x100;
/// One-byte instructions after the tested bytes.
pub const TAIL: u32 = 8;

/// Bytes per page.
pub(super) const PAGE: u64 = crate::mm::layout::PAGE;
/// Where the stub finds the registers to load.
pub(super) const REGS_IN: u64 = DATA;
/// Where the stub stores the registers at its end.
pub(super) const REGS_OUT: u64 = DATA + 0x40;
/// The kernel's RSP while the stub runs.
pub(super) const SAVED_RSP: u64 = DATA + 0x80;
/// RSP after the 64-bit tail (its pushes count it).
pub(super) const RSP_AFTER: u64 = DATA + 0x88;
/// The far pointer (offset, 64-bit code selector) the compatibility-mode stub
/// jumps back through.
pub(super) const FAR_POINTER: u64 = DATA + 0x90;

/// The mode a case's bytes run in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuMode {
    /// 64-bit mode (CS.L = 1).
    Long64,
    /// Compatibility mode (a 32-bit code segment): addresses and registers are 32-bit.
    Compat32,
}

/// General registers by number (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi); RSP is
/// ignored.
pub type Regs = [u64; 8];

/// Register numbers, for building [`Regs`].
pub mod reg {
    /// RAX.
    pub const RAX: usize = 0;
    /// RCX.
    pub const RCX: usize = 1;
    /// RDX.
    pub const RDX: usize = 2;
    /// RBX.
    pub const RBX: usize = 3;
    /// RSI.
    pub const RSI: usize = 6;
    /// RDI.
    pub const RDI: usize = 7;
}

/// One run of instruction bytes.
#[derive(Clone, Copy, Debug)]
pub struct Case<'a> {
    /// The mode to run in.
    pub mode: CpuMode,
    /// `IA32_BNDCFGS` while the case runs (0 afterwards).
    pub bndcfgs: u64,
    /// Register values on entry (RSP ignored; after the tested instruction, RAX is the
    /// tail counter in compatibility mode).
    pub regs: Regs,
    /// Bytes run first (setting up bound registers).
    pub setup: &'a [u8],
    /// The instruction under test: the counted tail follows it directly.
    pub test: &'a [u8],
    /// Bytes run after the tail (storing results).
    pub after: &'a [u8],
}

/// What a [`Case`] did.
#[derive(Clone, Copy, Debug, Default)]
pub struct Outcome {
    /// BNDSTATUS of the `#BR` the case raised, if it raised one.
    pub bound_fault: Option<u64>,
    /// Vector of another exception, if one was taken (the run stopped there).
    pub exception: Option<u64>,
    /// How many tail instructions ran ([`TAIL`] when the test bytes were decoded
    /// with their real length). `None` after an exception.
    pub tail_executed: Option<u32>,
    /// Registers on exit (meaningless after an exception; RAX counts the tail in
    /// compatibility mode).
    pub regs: Regs,
}

impl Outcome {
    /// Bytes after the tested instruction that the CPU skipped.
    pub fn skipped(&self) -> Option<u32> {
        self.tail_executed.map(|n| TAIL.saturating_sub(n))
    }
}
