//! One Linux process's own state (its program, descriptors, heap and run log) and
//! the shape of a system call (its arguments and result).

use super::fd::FdTable;
use super::signal::sets::Signals;
use crate::arch::trap::TrapFrame;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::AtomicU64;
use spin::Mutex;

/// The process id every Linux process here has (one process at a time).
pub const PID: u64 = 1;
/// `brk` may grow the heap this far past its start.
pub(super) const BRK_LIMIT: u64 = 1 << 30;

/// How many resource limits there are (`RLIM_NLIMITS`).
pub const RLIMITS: usize = 16;
/// `RLIMIT_NOFILE`: descriptors.
pub const RLIMIT_NOFILE: u64 = 7;

/// The limits a process starts with (what a Linux shell usually gives, within what
/// this kernel can honour: 1024 descriptors at most).
pub fn default_limits() -> [(u64, u64); RLIMITS] {
    const INF: u64 = u64::MAX;
    let mut limits = [(INF, INF); RLIMITS];
    limits[3] = (8 << 20, INF); // STACK
    limits[4] = (0, INF); // CORE
    limits[6] = (1024, 1024); // NPROC
    limits[RLIMIT_NOFILE as usize] = (1024, 1024);
    limits[8] = (8 << 20, 8 << 20); // MEMLOCK
    limits[11] = (1024, 1024); // SIGPENDING
    limits[12] = (819_200, 819_200); // MSGQUEUE
    limits[13] = (0, 0); // NICE
    limits[14] = (0, 0); // RTPRIO
    limits
}

/// What the kernel has to say about a run, told when it ends (so that nothing it
/// prints lands in the middle of the program's output).
///
/// Bounded (a program could otherwise fill the kernel heap with it): at most
/// [`RunLog::MAX_NUMBERS`] distinct numbers and [`RunLog::MAX_NOTES`] notes are kept,
/// the rest only counted.
#[derive(Debug, Default)]
pub struct RunLog {
    /// System calls that returned `-ENOSYS`: number → times.
    pub unimplemented: BTreeMap<u64, u64>,
    /// `-ENOSYS` calls whose number did not fit in `unimplemented`.
    pub unimplemented_others: u64,
    /// Other notes, in order.
    pub notes: Vec<String>,
    /// Notes that did not fit.
    pub notes_dropped: u64,
    /// Bound violations (`#BR` code 1) signalled as `SEGV_BNDERR`.
    pub bounds_violations: u64,
    /// Other `#BR`s signalled (`SI_KERNEL`: code 0 or 3, or no table installed).
    pub bounds_other: u64,
    /// Signals delivered to a handler.
    pub handled: u64,
}

impl RunLog {
    /// Distinct unimplemented numbers kept.
    pub const MAX_NUMBERS: usize = 64;
    /// Notes kept.
    pub const MAX_NOTES: usize = 32;

    /// Counts one `-ENOSYS` call of `number`.
    pub fn unimplemented_call(&mut self, number: u64) {
        if let Some(times) = self.unimplemented.get_mut(&number) {
            *times += 1;
        } else if self.unimplemented.len() < Self::MAX_NUMBERS {
            self.unimplemented.insert(number, 1);
        } else {
            self.unimplemented_others += 1;
        }
    }

    /// Keeps `text` for the end of the run.
    pub fn note(&mut self, text: String) {
        if self.notes.len() < Self::MAX_NOTES {
            self.notes.push(text);
        } else {
            self.notes_dropped += 1;
        }
    }
}

/// The `brk` heap.
#[derive(Debug, Clone, Copy)]
pub struct Brk {
    /// Where it starts (page aligned, after the program's last segment).
    pub start: u64,
    /// The current break.
    pub end: u64,
}

/// One Linux process's own state.
#[derive(Debug)]
pub struct Linux {
    /// The path of its program (`/name`).
    pub exe: Arc<str>,
    /// Its descriptors.
    pub fds: Mutex<FdTable>,
    /// Its heap.
    pub brk: Mutex<Brk>,
    /// Its file-mode creation mask (`umask`; kept and reported, as files here have no
    /// permissions).
    pub umask: AtomicU64,
    /// The monotonic clock when it started (`getrusage`).
    pub started_ns: u64,
    /// Its resource limits, `(cur, max)` by `RLIMIT_*` number.
    pub limits: Mutex<[(u64, u64); RLIMITS]>,
    /// Its signal state.
    pub signals: Mutex<Signals>,
    /// Its name (`PR_SET_NAME`; the program's base name at first), NUL-padded.
    pub name: Mutex<[u8; 16]>,
    /// The BNDCFGU value the kernel last put in the saved state at
    /// `PR_MPX_ENABLE_MANAGEMENT`, and the directory it means (on a CPU with QEMU's
    /// bug A the value is not the SDM encoding of that directory).
    pub mpx_cfg: Mutex<Option<(u64, u64)>>,
    /// What to report at its end.
    pub log: Arc<Mutex<RunLog>>,
}

/// A process name as Linux keeps it: at most 15 bytes, NUL-padded.
pub fn task_name(name: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    let n = name.len().min(15);
    out[..n].copy_from_slice(&name.as_bytes()[..n]);
    out
}

impl Linux {
    pub(super) fn note(&self, text: String) {
        self.log.lock().note(text);
    }
}

/// The six argument registers, in order.
#[derive(Clone, Copy, Debug)]
pub struct Args([u64; 6]);

impl Args {
    pub(super) fn of(frame: &TrapFrame) -> Args {
        Args([
            frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9,
        ])
    }

    /// Argument `i` (0-based).
    pub fn get(&self, i: usize) -> u64 {
        self.0[i]
    }
}

/// A system call's result: the value, or an errno.
pub type SysResult = Result<u64, i64>;
