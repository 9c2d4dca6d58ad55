//! Signals, as Linux x86-64 delivers them: per-signal actions (`rt_sigaction`), the
//! blocked and pending sets (`rt_sigprocmask`, `rt_sigpending`), the alternate stack
//! (`sigaltstack`), signals a process sends itself (`kill`, `tkill`, `tgkill`), faults
//! turned into signals, and handlers entered on Linux's `rt_sigframe` ([`frame`])
//! and left through `rt_sigreturn`.
//!
//! One thread: a pending signal is delivered when the process next returns to user
//! mode (after the system call that made it deliverable); a fault's signal at once.
//! Each signal is pending at most once (real-time signals are not queued deeper).

pub mod frame;
pub mod info;
pub mod sets;

use super::errno::*;
use super::state::{Args, Linux, SysResult, PID};
use crate::arch::trap::TrapFrame;
use crate::proc::process::{Exit, Flow, KillReason, Process, UserFault};
use crate::proc::uaccess::{copy_from_user, copy_to_user};
use info::{code, SigInfo, NSIG, SIGKILL, SIGSEGV, SIGSTOP, SIGSYS};
use sets::{bit, check_altstack, default_action, flags, stack_flags, Action, AltStack};
use sets::{Default, SIG_DFL, SIG_IGN, UNBLOCKABLE};

/// The signal Linux would have killed a process with for `reason`.
pub fn signal_for(reason: KillReason) -> u64 {
    let fault = |fault| u64::from(SigInfo::for_fault(fault, 0, &[]).signo);
    match reason {
        KillReason::BoundsViolation { .. }
        | KillReason::BoundsError
        | KillReason::SegmentationFault(_) => u64::from(SIGSEGV),
        KillReason::BadSyscall(_) => u64::from(SIGSYS),
        KillReason::Signal(signal) => signal,
        KillReason::Exception(vector) => fault(UserFault::Exception {
            vector,
            error_code: 0,
        }),
    }
}

fn signal_number(raw: u64) -> Result<u32, i64> {
    u32::try_from(raw)
        .ok()
        .filter(|n| (1..=NSIG).contains(n))
        .ok_or(EINVAL)
}

/// `rt_sigaction(sig, act, oact, sigsetsize)`.
pub fn sigaction(l: &Linux, p: &Process, a: Args) -> SysResult {
    let (act, oact, setsize) = (a.get(1), a.get(2), a.get(3));
    if setsize != 8 {
        return Err(EINVAL);
    }
    let n = signal_number(a.get(0))?;
    let new = if act != 0 {
        if n == SIGKILL || n == SIGSTOP {
            return Err(EINVAL);
        }
        let mut raw = [0u8; 32];
        copy_from_user(p, act, &mut raw).map_err(|_| EFAULT)?;
        let word =
            |i: usize| u64::from_le_bytes(raw[8 * i..8 * i + 8].try_into().unwrap_or([0; 8]));
        Some(Action {
            handler: word(0),
            flags: word(1) & flags::KNOWN,
            restorer: word(2),
            mask: word(3) & !UNBLOCKABLE,
        })
    } else {
        None
    };
    // The change first, then the old action out (an unwritable `oact` is EFAULT with
    // the new action in place, as on Linux).
    let old = {
        let mut signals = l.signals.lock();
        let old = signals.actions[n as usize - 1];
        if let Some(new) = new {
            signals.actions[n as usize - 1] = new;
            if new.ignores(n) {
                signals.discard(n);
            }
        }
        old
    };
    if oact != 0 {
        let mut raw = [0u8; 32];
        for (i, w) in [old.handler, old.flags, old.restorer, old.mask]
            .iter()
            .enumerate()
        {
            raw[8 * i..8 * i + 8].copy_from_slice(&w.to_le_bytes());
        }
        copy_to_user(p, oact, &raw).map_err(|_| EFAULT)?;
    }
    Ok(0)
}

/// `rt_sigprocmask(how, set, oset, sigsetsize)`.
pub fn sigprocmask(l: &Linux, p: &Process, a: Args) -> SysResult {
    const SIG_BLOCK: u64 = 0;
    const SIG_UNBLOCK: u64 = 1;
    const SIG_SETMASK: u64 = 2;
    let (how, set, oset, setsize) = (a.get(0), a.get(1), a.get(2), a.get(3));
    if setsize != 8 {
        return Err(EINVAL);
    }
    let new = if set != 0 {
        let mut raw = [0u8; 8];
        copy_from_user(p, set, &mut raw).map_err(|_| EFAULT)?;
        Some(u64::from_le_bytes(raw) & !UNBLOCKABLE)
    } else {
        None
    };
    let mut signals = l.signals.lock();
    let old = signals.blocked;
    if let Some(new) = new {
        signals.blocked = match how {
            SIG_BLOCK => old | new,
            SIG_UNBLOCK => old & !new,
            SIG_SETMASK => new,
            _ => return Err(EINVAL),
        };
    }
    drop(signals);
    if oset != 0 {
        copy_to_user(p, oset, &old.to_le_bytes()).map_err(|_| EFAULT)?;
    }
    Ok(0)
}

/// `rt_sigpending(set, sigsetsize)`: pending signals that are blocked.
pub fn sigpending(l: &Linux, p: &Process, a: Args) -> SysResult {
    if a.get(1) != 8 {
        return Err(EINVAL);
    }
    let set = {
        let signals = l.signals.lock();
        signals.pending_set() & signals.blocked
    };
    copy_to_user(p, a.get(0), &set.to_le_bytes()).map_err(|_| EFAULT)?;
    Ok(0)
}

/// `sigaltstack(ss, old_ss)`; `sp` is the caller's stack pointer.
pub fn sigaltstack(l: &Linux, p: &Process, a: Args, sp: u64) -> SysResult {
    use stack_flags::*;
    let (new, old) = (a.get(0), a.get(1));
    // As Linux: the new stack read and set first, then the old one reported (an
    // unreadable `ss` changes nothing; an unwritable `old_ss` is EFAULT after the
    // change).
    let wanted = if new != 0 {
        let mut raw = [0u8; 24];
        copy_from_user(p, new, &mut raw).map_err(|_| EFAULT)?;
        Some(AltStack {
            sp: u64::from_le_bytes(raw[0..8].try_into().unwrap_or([0; 8])),
            flags: u32::from_le_bytes(raw[8..12].try_into().unwrap_or([0; 4])),
            size: u64::from_le_bytes(raw[16..24].try_into().unwrap_or([0; 8])),
        })
    } else {
        None
    };
    let current = {
        let mut signals = l.signals.lock();
        let current = signals.altstack;
        if let Some(wanted) = wanted {
            signals.altstack = check_altstack(current, wanted, sp)?;
        }
        current
    };
    if old != 0 {
        let mut raw = [0u8; 24];
        raw[0..8].copy_from_slice(&current.sp.to_le_bytes());
        let reported = current.state(sp) | (current.flags & SS_AUTODISARM);
        raw[8..12].copy_from_slice(&reported.to_le_bytes());
        raw[16..24].copy_from_slice(&current.size.to_le_bytes());
        copy_to_user(p, old, &raw).map_err(|_| EFAULT)?;
    }
    Ok(0)
}

/// `kill(pid, sig)`, `tkill(tid, sig)` and `tgkill(tgid, tid, sig)` (`number`), to
/// this process only (pid 1, the only one): the signal becomes pending (or is dropped
/// if ignored; `SIGKILL` ends the process at once), to be delivered on the way back.
pub fn send_to_self(l: &Linux, number: u64, a: Args) -> Result<Flow, i64> {
    // Ids and the signal are C ints (the upper halves are ignored, as Linux's
    // prototypes make them).
    let id = |i: usize| a.get(i) as i32;
    let (ours, signal, code) = match number {
        nr::TGKILL if id(0) <= 0 || id(1) <= 0 => return Err(EINVAL),
        nr::TGKILL => (
            id(0) as u64 == PID && id(1) as u64 == PID,
            id(2),
            code::SI_TKILL,
        ),
        nr::TKILL if id(0) <= 0 => return Err(EINVAL),
        nr::TKILL => (id(0) as u64 == PID, id(1), code::SI_TKILL),
        // kill: our pid, or our group (0 or -pid); -1 means everyone but the caller,
        // which is nobody here.
        _ => {
            let pid = id(0);
            let ours = pid == 0 || u64::from(pid.unsigned_abs()) == PID;
            (ours, id(1), code::SI_USER)
        }
    };
    // No such process comes before a bad signal number (Linux finds the target first).
    if !ours {
        return Err(ESRCH);
    }
    if signal < 0 || signal as u32 > NSIG {
        return Err(EINVAL);
    }
    let signal = signal as u32;
    if signal == 0 {
        return Ok(Flow::Continue);
    }
    if signal == SIGKILL {
        return Ok(Flow::End(Exit::Killed(KillReason::Signal(u64::from(
            SIGKILL,
        )))));
    }
    l.signals
        .lock()
        .queue(SigInfo::from_process(signal, code, PID as u32));
    Ok(Flow::Continue)
}

/// On the way back to user mode: delivers the pending signals that are not blocked
/// (a handler's frame, the default action, or nothing), one at a time; the last one
/// delivered runs first.
pub fn deliver_pending(l: &Linux, p: &Process, frame: &mut TrapFrame) -> Flow {
    // Each delivery blocks at least its own signal or resets a one-shot action, so
    // the loop ends; the bound is a guard.
    for _ in 0..NSIG {
        let Some(info) = l.signals.lock().take_deliverable() else {
            return Flow::Continue;
        };
        if let Flow::End(exit) = deliver(l, p, frame, info, false) {
            return Flow::End(exit);
        }
    }
    Flow::Continue
}

/// A fault's signal, at once. A fault signal that is blocked or ignored cannot be
/// put off: its action goes back to the default and it is unblocked, so the process
/// dies of it (Linux's `force_sig_info`).
pub fn deliver_fault(l: &Linux, p: &Process, frame: &mut TrapFrame, fault: UserFault) -> Flow {
    let info = SigInfo::for_fault(fault, frame.rip, &p.xsave.lock().bytes()[..512]);
    {
        let mut signals = l.signals.lock();
        signals.trap = signals.trap.after(fault);
    }
    match fault {
        UserFault::BoundsOther(problem) => {
            l.log.lock().bounds_other += 1;
            l.note(alloc::format!("{problem} at rip {:#x}: SIGSEGV", frame.rip));
        }
        UserFault::Bounds(_) => l.log.lock().bounds_violations += 1,
        _ => {}
    }
    match force(l, p, frame, info) {
        Flow::End(exit) => {
            let signal = match exit {
                Exit::Killed(reason) => signal_for(reason),
                Exit::Code(_) => u64::from(info.signo),
            };
            l.note(alloc::format!(
                "killed by signal {}: {}",
                signal,
                crate::proc::traps::describe(fault, frame.rip)
            ));
            Flow::End(exit)
        }
        Flow::Continue => Flow::Continue,
    }
}

/// Delivers `info` now: the handler's frame, the default action, or nothing. A
/// frame that cannot be built (no `SA_RESTORER`, a stack that cannot take it) turns
/// into `SIGSEGV`, which kills the process if it was `SIGSEGV` already.
fn deliver(l: &Linux, p: &Process, frame: &mut TrapFrame, info: SigInfo, forced: bool) -> Flow {
    let n = info.signo;
    let action = l.signals.lock().actions[n as usize - 1];
    let killed = Flow::End(Exit::Killed(KillReason::Signal(u64::from(n))));
    match action.handler {
        SIG_IGN if !forced => return Flow::Continue,
        SIG_DFL | SIG_IGN => {
            return match default_action(n) {
                Default::Terminate => killed,
                Default::Ignore | Default::Stop if !forced => Flow::Continue,
                Default::Ignore | Default::Stop => killed,
            };
        }
        _ => {}
    }
    if frame::enter_handler(l, p, frame, &info, &action).is_ok() {
        l.log.lock().handled += 1;
        return Flow::Continue;
    }
    if n == SIGSEGV {
        l.note(alloc::format!(
            "no frame could be built for signal {n}: killed by SIGSEGV"
        ));
        return Flow::End(Exit::Killed(KillReason::Signal(u64::from(SIGSEGV))));
    }
    // force_sigsegv: SIGSEGV from the kernel, delivered (or fatal) in turn.
    force(l, p, frame, SigInfo::kernel(SIGSEGV))
}

/// Delivers `info` now, even if its signal is blocked or ignored: then its action
/// goes back to the default and it is unblocked first (Linux's `force_sig_info`).
fn force(l: &Linux, p: &Process, frame: &mut TrapFrame, info: SigInfo) -> Flow {
    {
        let mut signals = l.signals.lock();
        let index = info.signo as usize - 1;
        let blocked = signals.blocked & bit(info.signo) != 0;
        if blocked || signals.actions[index].handler == SIG_IGN {
            signals.actions[index].handler = SIG_DFL;
            signals.blocked &= !bit(info.signo);
        }
    }
    deliver(l, p, frame, info, true)
}

/// `rt_sigreturn`: back from a handler to where the signal interrupted (the frame
/// below RSP says where and with what); a frame that does not check out is
/// `SIGSEGV`. Signals the restored mask unblocks are delivered next.
pub fn sigreturn(l: &Linux, p: &Process, frame: &mut TrapFrame) -> Flow {
    match frame::restore(l, p, frame) {
        Ok(()) => deliver_pending(l, p, frame),
        Err(frame::BadFrame) => {
            l.note(alloc::format!(
                "rt_sigreturn with a bad frame below {:#x}: SIGSEGV",
                frame.rsp
            ));
            force(l, p, frame, SigInfo::kernel(SIGSEGV))
        }
    }
}
