//! A process's signal state: actions, the blocked and pending sets, the alternate
//! stack, and the last fault's record; the signals' default actions.

use super::info::{SigInfo, TrapRecord, NSIG, SIGBUS, SIGFPE, SIGILL, SIGKILL, SIGSEGV, SIGSTOP};
use super::info::{SIGSYS, SIGTRAP};
use crate::abi::linux::errno::{EINVAL, ENOMEM, EPERM};

/// `sa_flags` bits (Linux `include/uapi/asm-generic/signal-defs.h`, x86).
pub mod flags {
    /// The handler takes `(signo, siginfo *, ucontext *)`.
    pub const SA_SIGINFO: u64 = 0x4;
    /// `sa_restorer` is valid (glibc always sets it; x86-64 requires it).
    pub const SA_RESTORER: u64 = 0x0400_0000;
    /// Run the handler on the alternate stack.
    pub const SA_ONSTACK: u64 = 0x0800_0000;
    /// Restart interrupted system calls (none here is ever interrupted).
    pub const SA_RESTART: u64 = 0x1000_0000;
    /// Do not block the signal in its own handler.
    pub const SA_NODEFER: u64 = 0x4000_0000;
    /// Back to the default action once delivered.
    pub const SA_RESETHAND: u64 = 0x8000_0000;
    /// The flags Linux keeps (`UAPI_SA_FLAGS`); others are dropped silently, which is
    /// how a program learns what the kernel supports.
    pub const KNOWN: u64 = 0x1
        | 0x2
        | SA_SIGINFO
        | 0x800
        | SA_RESTORER
        | SA_ONSTACK
        | SA_RESTART
        | SA_NODEFER
        | SA_RESETHAND;
}

/// `sigaltstack` flags.
pub mod stack_flags {
    /// Running on the alternate stack (reported only).
    pub const SS_ONSTACK: u32 = 1;
    /// No alternate stack.
    pub const SS_DISABLE: u32 = 2;
    /// Disarm the stack while a handler runs on it.
    pub const SS_AUTODISARM: u32 = 1 << 31;
}

/// The smallest alternate stack Linux accepts (`MINSIGSTKSZ`).
pub const MINSIGSTKSZ: u64 = 2048;

/// `SIG_DFL`.
pub const SIG_DFL: u64 = 0;
/// `SIG_IGN`.
pub const SIG_IGN: u64 = 1;

/// The bit of signal `n` in a set.
pub const fn bit(n: u32) -> u64 {
    1 << (n - 1)
}

/// The signals faults raise, delivered before the others (`SYNCHRONOUS_MASK`).
const SYNCHRONOUS: u64 =
    bit(SIGSEGV) | bit(SIGBUS) | bit(SIGILL) | bit(SIGTRAP) | bit(SIGFPE) | bit(SIGSYS);

/// What no mask may hold.
pub const UNBLOCKABLE: u64 = bit(SIGKILL) | bit(SIGSTOP);

/// What a signal does by default (Linux `include/linux/signal.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Default {
    /// Ends the process (with or without a core dump: none is written here).
    Terminate,
    /// Nothing.
    Ignore,
    /// Stops the process: nothing could continue it here, so it is ignored.
    Stop,
}

/// The default action of signal `n`.
pub fn default_action(n: u32) -> Default {
    match n {
        17 | 18 | 23 | 28 => Default::Ignore, // SIGCHLD, SIGCONT, SIGURG, SIGWINCH
        19..=22 => Default::Stop,             // SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU
        _ => Default::Terminate,
    }
}

/// One signal's action (`struct sigaction` as the x86-64 system call sees it:
/// handler, flags, restorer, mask; 32 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Action {
    /// `SIG_DFL` (0), `SIG_IGN` (1) or the handler's address.
    pub handler: u64,
    /// `SA_*`.
    pub flags: u64,
    /// Where the handler returns to (`__restore_rt`: `rt_sigreturn`).
    pub restorer: u64,
    /// Blocked while the handler runs.
    pub mask: u64,
}

impl Action {
    /// Whether a signal `n` sent now would be dropped.
    pub fn ignores(&self, n: u32) -> bool {
        self.handler == SIG_IGN
            || (self.handler == SIG_DFL && default_action(n) != Default::Terminate)
    }
}

/// The alternate signal stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AltStack {
    /// Its lowest address.
    pub sp: u64,
    /// Its size (0: none).
    pub size: u64,
    /// `SS_AUTODISARM` or `SS_DISABLE` as set (`uc_stack.ss_flags` reports these).
    pub flags: u32,
}

impl AltStack {
    /// No alternate stack (never set).
    pub const NONE: AltStack = AltStack {
        sp: 0,
        size: 0,
        flags: 0,
    };

    /// Whether `sp` is on it (never under `SS_AUTODISARM`, as Linux counts).
    pub fn contains(&self, sp: u64) -> bool {
        self.flags & stack_flags::SS_AUTODISARM == 0 && sp > self.sp && sp - self.sp <= self.size
    }

    /// `sas_ss_flags(sp)`: `SS_DISABLE` without a stack, `SS_ONSTACK` on it, else 0.
    pub fn state(&self, sp: u64) -> u32 {
        if self.size == 0 {
            stack_flags::SS_DISABLE
        } else if self.contains(sp) {
            stack_flags::SS_ONSTACK
        } else {
            0
        }
    }
}

/// A process's signal state.
#[derive(Debug)]
pub struct Signals {
    /// Actions, by signal number - 1.
    pub actions: [Action; NSIG as usize],
    /// Blocked signals.
    pub blocked: u64,
    /// Pending signals and what each carries.
    pending: [Option<SigInfo>; NSIG as usize],
    /// The alternate stack.
    pub altstack: AltStack,
    /// The last fault's hardware record.
    pub trap: TrapRecord,
}

impl Signals {
    /// Every action default, nothing blocked or pending, no alternate stack.
    pub fn new() -> Signals {
        Signals {
            actions: [Action::default(); NSIG as usize],
            blocked: 0,
            pending: [None; NSIG as usize],
            altstack: AltStack::NONE,
            trap: TrapRecord::default(),
        }
    }

    /// The pending set.
    pub fn pending_set(&self) -> u64 {
        self.pending
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_some())
            .fold(0, |set, (i, _)| set | 1 << i)
    }

    /// Queues `info` unless its signal is ignored and not blocked (then it is dropped,
    /// as Linux's `sig_ignored` does at send time: a blocked signal stays pending, its
    /// action may change before it is unblocked). A signal pending already stays as
    /// it was.
    pub fn queue(&mut self, info: SigInfo) {
        let n = info.signo;
        let blocked = self.blocked & bit(n) != 0;
        if !blocked && self.actions[n as usize - 1].ignores(n) && n != SIGKILL {
            return;
        }
        self.pending[n as usize - 1].get_or_insert(info);
    }

    /// Drops a pending signal `n` (its action now ignores it).
    pub fn discard(&mut self, n: u32) {
        self.pending[n as usize - 1] = None;
    }

    /// Takes the next pending signal that is not blocked: the synchronous ones
    /// (SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGSYS) first, then the lowest number
    /// (Linux's `next_signal`).
    pub fn take_deliverable(&mut self) -> Option<SigInfo> {
        let ready = self.pending_set() & !self.blocked;
        if ready == 0 {
            return None;
        }
        let synchronous = ready & SYNCHRONOUS;
        let pick = if synchronous != 0 { synchronous } else { ready };
        self.pending[pick.trailing_zeros() as usize].take()
    }
}

impl core::default::Default for Signals {
    fn default() -> Signals {
        Signals::new()
    }
}

/// The alternate stack `wanted` would set, as Linux's `do_sigaltstack` checks it.
pub fn check_altstack(current: AltStack, wanted: AltStack, sp: u64) -> Result<AltStack, i64> {
    use stack_flags::*;
    if current.contains(sp) {
        return Err(EPERM);
    }
    // The flags are kept as given (`uc_stack.ss_flags` shows them), as Linux keeps
    // `sas_ss_flags`.
    let mode = wanted.flags & !SS_AUTODISARM;
    match mode {
        SS_DISABLE => Ok(AltStack {
            sp: 0,
            size: 0,
            flags: wanted.flags,
        }),
        0 | SS_ONSTACK if wanted.size < MINSIGSTKSZ => Err(ENOMEM),
        0 | SS_ONSTACK => Ok(wanted),
        _ => Err(EINVAL),
    }
}
