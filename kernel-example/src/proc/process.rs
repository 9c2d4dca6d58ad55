//! A process: its mm, its XSAVE area, the ABI it speaks ([`Abi`]: the ABIs live
//! above this layer and plug in through it), what it did, and how it ended; and which
//! one is running.
//!
//! Everything that changes while the process runs is behind atomics or a lock: the
//! running process is reached as `&'static Process` from trap handlers, so nothing
//! here may need `&mut`.

use crate::arch::trap::TrapFrame;
use crate::arch::xsave::XsaveArea;
use crate::mm::space::Mm;
use crate::mm::user::UserMemory;
use crate::mpx_glue::BrRefusal;
use crate::mpx_glue::ProcessMm;
use alloc::boxed::Box;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use mpx::violation::{DecodeError, ViolationReport};

/// Why a process was killed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillReason {
    /// A bounds violation (#BR code 1); the report was printed.
    BoundsViolation {
        /// The checked address, if the instruction could be decoded.
        address: Option<u64>,
        /// Lower bound.
        lower: Option<u64>,
        /// Upper bound (as an address, not complemented).
        upper: Option<u64>,
    },
    /// A #BR the manager could not handle (like SIGSEGV).
    BoundsError,
    /// A page fault on an address no VMA allows.
    SegmentationFault(u64),
    /// Another exception (vector).
    Exception(u64),
    /// A bad system call number.
    BadSyscall(u64),
    /// A signal the process sent itself (`kill`, `tgkill`: `abort` does), whose
    /// default action ends it.
    Signal(u64),
}

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// `exit(code)`.
    Code(u64),
    /// Killed by the kernel.
    Killed(KillReason),
}

/// How a system call was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyscallEntry {
    /// `int 0x80`.
    Int80,
    /// The `syscall` instruction.
    Syscall,
}

/// What happens after a system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Return to the process (the ABI wrote its result into the frame).
    Continue,
    /// The process ends.
    End(Exit),
}

/// An exception from ring 3 the kernel could not resolve itself: what the process's
/// ABI turns into a signal (Linux) or a kill (the native programs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserFault {
    /// A page fault no VMA allows.
    Page {
        /// The faulting address (CR2).
        address: u64,
        /// The page-fault error code.
        error_code: u64,
        /// Whether a VMA covers the address (the access was refused) or none does.
        mapped: bool,
    },
    /// A page fault the kernel had no memory for.
    OutOfMemory {
        /// The faulting address.
        address: u64,
    },
    /// A bounds violation (`#BR` code 1), decoded: the checked address and the
    /// violated register's bounds (upper as an address, not complemented).
    Bounds(ViolationReport),
    /// Any other `#BR`: a violation whose instruction could not be decoded, a
    /// table the crate would not or could not allocate, a reserved BNDSTATUS.
    BoundsOther(BoundsProblem),
    /// Another exception.
    Exception {
        /// Its vector.
        vector: u64,
        /// Its error code (0 if it has none; DR6 for #DB).
        error_code: u64,
    },
}

/// Why a `#BR` was neither a table installed nor a decoded violation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoundsProblem {
    /// A violation at bytes that do not decode (`len` of them were readable).
    Undecodable {
        /// Why.
        error: DecodeError,
        /// Instruction bytes the kernel could copy.
        len: usize,
    },
    /// Refused: code 0 or 3, or no table could be installed for code 2.
    Refused(BrRefusal),
}

impl core::fmt::Display for BoundsProblem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BoundsProblem::Undecodable { error, len } => write!(
                f,
                "bounds violation at an undecodable instruction: {error} ({len} of {} bytes readable)",
                mpx::violation::MAX_INSTRUCTION_LEN
            ),
            BoundsProblem::Refused(why) => write!(f, "#BR not handled: {why}"),
        }
    }
}

impl UserFault {
    /// How a process killed by this fault ended.
    pub fn kill_reason(self) -> KillReason {
        match self {
            UserFault::Page { address, .. } | UserFault::OutOfMemory { address } => {
                KillReason::SegmentationFault(address)
            }
            UserFault::Bounds(report) => KillReason::BoundsViolation {
                address: Some(report.address),
                lower: Some(report.lower),
                upper: Some(report.upper),
            },
            UserFault::BoundsOther(BoundsProblem::Undecodable { .. }) => {
                KillReason::BoundsViolation {
                    address: None,
                    lower: None,
                    upper: None,
                }
            }
            UserFault::BoundsOther(BoundsProblem::Refused(_)) => KillReason::BoundsError,
            UserFault::Exception { vector, .. } => KillReason::Exception(vector),
        }
    }
}

/// A process ABI.
pub trait Abi: Send + Sync {
    /// Serves the system call in `frame`, made through `entry`, for `process`. Called
    /// with no lock held.
    fn syscall(&self, process: &Process, frame: &mut TrapFrame, entry: SyscallEntry) -> Flow;

    /// Decides what `fault` (which `frame` took, RIP at the faulting instruction for
    /// a fault, after it for a trap) does to `process`: `Flow::Continue` resumes it
    /// at `frame`, which the ABI may have changed (to enter a signal handler). Called
    /// with no lock held; the process's extended state is in its XSAVE area.
    fn fault(&self, process: &Process, frame: &mut TrapFrame, fault: UserFault) -> Flow;
}

/// [`Process::reports`] value meaning "not reported".
pub const NOT_REPORTED: u64 = u64::MAX;

/// Numbers a program may report to the harness (`Process::reports`).
pub const REPORT_KEYS: usize = 3;

/// A process: its mm (behind the lock its MPX manager owns) and XSAVE area.
pub struct Process {
    /// The mm, behind the mm lock its manager owns.
    pub mm: ProcessMm,
    /// The ABI the process speaks (its system calls, and its own state).
    pub abi: Box<dyn Abi>,
    /// The kernel's access to the process's user memory.
    pub user: UserMemory,
    /// Saved extended state; component 4 carries `BNDCFGU`.
    pub xsave: spin::Mutex<XsaveArea>,
    /// `mmap` system calls the kernel served for this process.
    pub mmap_calls: AtomicU64,
    /// `munmap` system calls the kernel served for this process.
    pub munmap_calls: AtomicU64,
    /// Numbers the program reported (`SYS_REPORT`), by key; [`NOT_REPORTED`] = none.
    pub reports: [AtomicU64; REPORT_KEYS],
    /// Whether every `munmap` is followed by [`Process::audit`] (the harness decides).
    audit_unmaps: bool,
    /// Times the kernel's own bookkeeping disagreed with the manager's.
    invariant_failures: AtomicU64,
    /// The kernel stack pointer to return to when the process leaves (written by the
    /// ring-3 entry code).
    pub(super) kernel_rsp: AtomicU64,
    /// How it ended; set once, by the code that ends it.
    exit: spin::Mutex<Option<Exit>>,
    /// Whether it has ended.
    ended: AtomicBool,
}

impl Process {
    /// A process over `mm` speaking `abi`, management off; `audit_unmaps` as
    /// [`Process::audit`] says.
    pub fn new(mm: Mm, abi: Box<dyn Abi>, audit_unmaps: bool) -> Process {
        let user = mm.user_memory();
        Process {
            mm: ProcessMm::new(mm),
            abi,
            user,
            xsave: spin::Mutex::new(XsaveArea::new()),
            mmap_calls: AtomicU64::new(0),
            munmap_calls: AtomicU64::new(0),
            reports: [const { AtomicU64::new(NOT_REPORTED) }; REPORT_KEYS],
            audit_unmaps,
            invariant_failures: AtomicU64::new(0),
            kernel_rsp: AtomicU64::new(0),
            exit: spin::Mutex::new(None),
            ended: AtomicBool::new(false),
        }
    }

    /// Records how the process ended (the first call wins).
    pub fn set_exit(&self, exit: Exit) {
        if !self.ended.swap(true, Ordering::AcqRel) {
            *self.exit.lock() = Some(exit);
        }
    }

    /// How the process ended, once it has.
    pub fn exit(&self) -> Option<Exit> {
        *self.exit.lock()
    }

    /// Whether every `munmap` should be followed by an [`Process::audit`].
    pub fn audits_unmaps(&self) -> bool {
        self.audit_unmaps
    }

    /// Times [`Process::audit`] found a disagreement.
    pub fn invariant_failures(&self) -> u64 {
        self.invariant_failures.load(Ordering::Relaxed)
    }

    /// Checks the kernel's view of the bounds tables against the manager's and
    /// counts (and prints) every disagreement: one bounds-table VMA per live
    /// table, and the frames the kernel accounts to table VMAs equal to the
    /// resident table bytes the manager measures. Call without the mm lock held.
    ///
    /// While management is off, a table the user unmaps is ordinary memory to the
    /// manager and is not counted as freed, so then only "no more table VMAs than
    /// live tables" is required.
    pub fn audit(&self, when: &str) {
        let stats = self.mm.statistics();
        let resident = self.mm.resident_table_bytes();
        let (table_vmas, table_frames) = {
            let mm = self.mm.read();
            (mm.vmas().table_vmas(), mm.table_frames())
        };
        let managed = self.mm.is_managed();
        let mut ok = true;
        if table_vmas > stats.live_tables || (managed && table_vmas != stats.live_tables) {
            kprintln!(
                "  KERNEL CHECK FAILED ({}): {} bounds-table VMAs but {} live tables",
                when,
                table_vmas,
                stats.live_tables
            );
            ok = false;
        }
        if table_frames * crate::mm::layout::PAGE != resident {
            kprintln!(
                "  KERNEL CHECK FAILED ({}): {} table frames accounted, {} table bytes resident",
                when,
                table_frames,
                resident
            );
            ok = false;
        }
        if !ok {
            self.invariant_failures.fetch_add(1, Ordering::Relaxed);
        }
    }
}

static CURRENT: AtomicPtr<Process> = AtomicPtr::new(core::ptr::null_mut());

/// Makes `process` the running one until [`clear_current`].
///
/// # Safety
/// `process` must stay alive and unmoved until [`clear_current`] is called, and must
/// only be used through shared references meanwhile.
pub(super) unsafe fn set_current(process: *const Process) {
    CURRENT.store(process.cast_mut(), Ordering::Release);
}

/// No process runs any more.
pub(super) fn clear_current() {
    CURRENT.store(core::ptr::null_mut(), Ordering::Release);
}

/// Runs `f` on the running process (the reference cannot outlive the call).
///
/// # Panics
/// If no process is running.
pub fn with_current<R>(f: impl FnOnce(&Process) -> R) -> R {
    let ptr = CURRENT.load(Ordering::Acquire);
    assert!(!ptr.is_null(), "no current process");
    // SAFETY: `set_current`'s caller keeps the process alive, unmoved and shared-only
    // while CURRENT points at it, and clears CURRENT before dropping it; the process
    // ends only by returning to that caller, after `f` (or a `kill_current` inside it,
    // which never returns into `f`).
    f(unsafe { &*ptr })
}
