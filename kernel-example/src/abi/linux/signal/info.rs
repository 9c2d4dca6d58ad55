//! `siginfo_t` (x86-64, 128 bytes): what a handler installed with `SA_SIGINFO` is told
//! about its signal, and which signal each fault becomes.
//!
//! Offsets from glibc's `bits/types/siginfo_t.h` on x86-64 (and the static asserts in
//! Linux's `arch/x86/kernel/signal_64.c`): `si_signo` 0, `si_errno` 4, `si_code` 8,
//! then the union at 16: `si_pid` 16 and `si_uid` 20 for `kill`; `si_addr` 16,
//! `si_addr_lsb` 24, `si_lower` 32, `si_upper` 40 for faults.

use crate::proc::process::UserFault;
use mpx::violation::CheckKind;

/// Signal numbers run from 1 to this (`_NSIG`).
pub const NSIG: u32 = 64;
/// Illegal instruction.
pub const SIGILL: u32 = 4;
/// Trace or breakpoint trap.
pub const SIGTRAP: u32 = 5;
/// Bus error.
pub const SIGBUS: u32 = 7;
/// Arithmetic exception.
pub const SIGFPE: u32 = 8;
/// Kill (cannot be caught, blocked or ignored).
pub const SIGKILL: u32 = 9;
/// Segmentation fault.
pub const SIGSEGV: u32 = 11;
/// Stop (cannot be caught, blocked or ignored).
pub const SIGSTOP: u32 = 19;
/// Bad system call.
pub const SIGSYS: u32 = 31;

/// `si_code` values (Linux `include/uapi/asm-generic/siginfo.h`).
pub mod code {
    /// Sent by `kill`.
    pub const SI_USER: i32 = 0;
    /// Sent by the kernel.
    pub const SI_KERNEL: i32 = 0x80;
    /// Sent by `tkill`/`tgkill`.
    pub const SI_TKILL: i32 = -6;
    /// SIGSEGV: no mapping at the address.
    pub const SEGV_MAPERR: i32 = 1;
    /// SIGSEGV: a mapping refused the access.
    pub const SEGV_ACCERR: i32 = 2;
    /// SIGSEGV: a bound-range violation (MPX).
    pub const SEGV_BNDERR: i32 = 3;
    /// SIGILL: an illegal operand (how Linux reports #UD).
    pub const ILL_ILLOPN: i32 = 2;
    /// SIGFPE: integer division by zero.
    pub const FPE_INTDIV: i32 = 1;
    /// SIGBUS: an unaligned access (#AC).
    pub const BUS_ADRALN: i32 = 1;
    /// SIGTRAP: a breakpoint (`int1`, a hardware breakpoint).
    pub const TRAP_BRKPT: i32 = 1;
    /// SIGTRAP: a single step.
    pub const TRAP_TRACE: i32 = 2;
    /// SIGFPE: floating-point division by zero.
    pub const FPE_FLTDIV: i32 = 3;
    /// SIGFPE: floating-point overflow.
    pub const FPE_FLTOVF: i32 = 4;
    /// SIGFPE: floating-point underflow.
    pub const FPE_FLTUND: i32 = 5;
    /// SIGFPE: inexact result.
    pub const FPE_FLTRES: i32 = 6;
    /// SIGFPE: invalid operation.
    pub const FPE_FLTINV: i32 = 7;
}

/// The end of what user mappings can reach (Linux's `TASK_SIZE_MAX`).
const USER_TOP: u64 = (1 << 47) - 4096;

/// Bytes of a `siginfo_t`.
pub const SIGINFO_SIZE: usize = 128;

/// What a signal carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigInfo {
    /// The signal.
    pub signo: u32,
    /// Why it was sent (`si_code`).
    pub code: i32,
    /// The second part of the union.
    pub detail: Detail,
}

/// The union part of a `siginfo_t` this kernel fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// Sent by a process: its pid and uid.
    Sender {
        /// `si_pid`.
        pid: u32,
        /// `si_uid`.
        uid: u32,
    },
    /// A fault: the address (`si_addr`), and for `SEGV_BNDERR` the bounds.
    Fault {
        /// `si_addr`.
        addr: u64,
        /// `si_lower`.
        lower: u64,
        /// `si_upper` (not complemented).
        upper: u64,
    },
    /// Nothing (`SI_KERNEL` signals: zeros).
    None,
}

impl SigInfo {
    /// A signal process `pid` (uid 0) sent (`kill`: `SI_USER`; `tkill`/`tgkill`:
    /// `SI_TKILL`).
    pub fn from_process(signo: u32, code: i32, pid: u32) -> SigInfo {
        SigInfo {
            signo,
            code,
            detail: Detail::Sender { pid, uid: 0 },
        }
    }

    /// A signal the kernel sends on its own (`SI_KERNEL`, zeros).
    pub fn kernel(signo: u32) -> SigInfo {
        SigInfo {
            signo,
            code: code::SI_KERNEL,
            detail: Detail::None,
        }
    }

    fn fault(signo: u32, code: i32, addr: u64) -> SigInfo {
        SigInfo {
            signo,
            code,
            detail: Detail::Fault {
                addr,
                lower: 0,
                upper: 0,
            },
        }
    }

    /// The signal Linux sends for `fault` at `rip` (`arch/x86/kernel/traps.c`,
    /// `arch/x86/mm/fault.c`, and `do_bounds` of Linux 4.x-5.5 for #BR); `fpu` is the
    /// process's saved legacy x87/SSE region (for the code of #MF and #XM).
    pub fn for_fault(fault: UserFault, rip: u64, fpu: &[u8]) -> SigInfo {
        use code::*;
        match fault {
            UserFault::Page {
                address, mapped, ..
            } => SigInfo::fault(
                SIGSEGV,
                if mapped { SEGV_ACCERR } else { SEGV_MAPERR },
                address,
            ),
            UserFault::OutOfMemory { address } => SigInfo::fault(SIGSEGV, SEGV_MAPERR, address),
            UserFault::Bounds(report) => SigInfo {
                signo: SIGSEGV,
                code: SEGV_BNDERR,
                detail: Detail::Fault {
                    addr: report.address,
                    lower: report.lower,
                    // Linux's si_upper is always the complement of the stored upper
                    // bound (`mpx_generate_siginfo`); the crate reports what BNDCN
                    // compared against, the stored field itself.
                    upper: match report.kind {
                        CheckKind::UpperNoComplement => !report.upper,
                        _ => report.upper,
                    },
                },
            },
            UserFault::BoundsOther(_) => SigInfo::kernel(SIGSEGV),
            UserFault::Exception { vector, .. } => match vector {
                0 => SigInfo::fault(SIGFPE, FPE_INTDIV, rip),
                6 => SigInfo::fault(SIGILL, ILL_ILLOPN, rip),
                // #DB: DR6.BS is a single step (TRAP_TRACE), anything else a
                // breakpoint; int3 is SI_KERNEL.
                1 if error_code_bit(fault, 14) => SigInfo::fault(SIGTRAP, TRAP_TRACE, rip),
                1 => SigInfo::fault(SIGTRAP, TRAP_BRKPT, rip),
                3 => SigInfo::kernel(SIGTRAP),
                17 => SigInfo::fault(SIGBUS, BUS_ADRALN, 0),
                11 | 12 => SigInfo::kernel(SIGBUS),
                16 | 19 => SigInfo::fault(SIGFPE, fpe_code(vector, fpu), rip),
                _ => SigInfo::kernel(SIGSEGV),
            },
        }
    }

    /// The 128 bytes of the `siginfo_t`.
    pub fn to_bytes(self) -> [u8; SIGINFO_SIZE] {
        let mut bytes = [0u8; SIGINFO_SIZE];
        bytes[0..4].copy_from_slice(&self.signo.to_le_bytes());
        bytes[8..12].copy_from_slice(&self.code.to_le_bytes());
        match self.detail {
            Detail::Sender { pid, uid } => {
                bytes[16..20].copy_from_slice(&pid.to_le_bytes());
                bytes[20..24].copy_from_slice(&uid.to_le_bytes());
            }
            Detail::Fault { addr, lower, upper } => {
                bytes[16..24].copy_from_slice(&addr.to_le_bytes());
                bytes[32..40].copy_from_slice(&lower.to_le_bytes());
                bytes[40..48].copy_from_slice(&upper.to_le_bytes());
            }
            Detail::None => {}
        }
        bytes
    }
}

fn error_code_bit(fault: UserFault, bit: u32) -> bool {
    matches!(fault, UserFault::Exception { error_code, .. } if error_code & (1 << bit) != 0)
}

/// The `si_code` of an x87 (#MF, vector 16) or SSE (#XM, 19) exception: the first
/// unmasked pending exception in Linux's order (`fpu__exception_code`): invalid,
/// divide by zero, overflow, underflow or denormal, inexact. `fpu` is the legacy
/// region (FCW at 0, FSW at 2, MXCSR at 24).
pub fn fpe_code(vector: u64, fpu: &[u8]) -> i32 {
    use code::*;
    let half = |at: usize| u32::from(u16::from_le_bytes([fpu[at], fpu[at + 1]]));
    if fpu.len() < 28 {
        return 0;
    }
    let pending = if vector == 16 {
        half(2) & !half(0)
    } else {
        let mxcsr = u32::from_le_bytes([fpu[24], fpu[25], fpu[26], fpu[27]]);
        mxcsr & !(mxcsr >> 7)
    };
    if pending & 0x01 != 0 {
        FPE_FLTINV
    } else if pending & 0x04 != 0 {
        FPE_FLTDIV
    } else if pending & 0x08 != 0 {
        FPE_FLTOVF
    } else if pending & 0x12 != 0 {
        FPE_FLTUND
    } else if pending & 0x20 != 0 {
        FPE_FLTRES
    } else {
        0
    }
}

/// The hardware record a frame's sigcontext carries (`trapno`, `err`, `cr2`): set by
/// every fault and kept, stale, for the signals after it, as Linux keeps
/// `thread.trap_nr`, `error_code` and `cr2`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrapRecord {
    /// The vector.
    pub trapno: u64,
    /// The error code (page faults: the hardware code with the user bit).
    pub err: u64,
    /// The last page-fault address.
    pub cr2: u64,
}

impl TrapRecord {
    /// The record after `fault` (vector `vector`).
    pub fn after(self, fault: UserFault) -> TrapRecord {
        match fault {
            UserFault::Page {
                address,
                error_code,
                ..
            } => TrapRecord {
                trapno: 14,
                // The user bit, and the protection bit for the top page and beyond
                // (Linux's `sanitize_error_code`: no user page is there).
                err: error_code | 4 | u64::from(address >= USER_TOP),
                cr2: address,
            },
            UserFault::OutOfMemory { address } => TrapRecord {
                trapno: 14,
                err: 4,
                cr2: address,
            },
            UserFault::Bounds(_) | UserFault::BoundsOther(_) => TrapRecord {
                trapno: 5,
                err: 0,
                ..self
            },
            UserFault::Exception { vector, error_code } => TrapRecord {
                trapno: vector,
                err: error_code,
                ..self
            },
        }
    }
}
