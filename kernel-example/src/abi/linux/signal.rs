//! Signals. For now: which one a killed process died of, and signals a process sends
//! itself, which take their default action (there are no handlers yet: part 2 of the
//! Linux ABI, signal delivery and `SIGSEGV` with `SEGV_BNDERR`, grows here).

use super::errno::*;
use super::state::{Args, PID};
use crate::proc::process::{Exit, Flow, KillReason};

/// Signal numbers above this do not exist (`_NSIG`).
const NSIG: u64 = 64;

/// `kill(pid, sig)`, `tkill(tid, sig)` and `tgkill(tgid, tid, sig)` (`number`): to
/// this process only (pid 1, the only one). `Err` is the errno; `Ok(Flow::End)` when
/// the signal's default action terminates it (Linux's `sig_kernel_only` and
/// `SIG_KERNEL_COREDUMP_MASK` sets); signals whose default is to be ignored, and the
/// stop signals (nothing here could continue the process), return 0.
pub fn send_to_self(number: u64, a: Args) -> Result<Flow, i64> {
    let positive = |id: u64| (id as i64) > 0;
    let (ours, signal) = match number {
        nr::TGKILL if !positive(a.get(0)) || !positive(a.get(1)) => return Err(EINVAL),
        nr::TGKILL => (a.get(0) == PID && a.get(1) == PID, a.get(2)),
        nr::TKILL if !positive(a.get(0)) => return Err(EINVAL),
        nr::TKILL => (a.get(0) == PID, a.get(1)),
        // kill: our pid, our group (0 or -pid), or everyone (-1): us in every case.
        _ => {
            let pid = a.get(0) as i64;
            (matches!(pid, 0 | -1) || pid.unsigned_abs() == PID, a.get(1))
        }
    };
    if signal > NSIG {
        return Err(EINVAL);
    }
    if !ours {
        return Err(ESRCH);
    }
    const SIGCHLD: u64 = 17;
    const SIGCONT: u64 = 18;
    const SIGSTOP: u64 = 19;
    const SIGTTOU: u64 = 22;
    const SIGURG: u64 = 23;
    const SIGWINCH: u64 = 28;
    let harmless = signal == 0
        || matches!(signal, SIGCHLD | SIGCONT | SIGURG | SIGWINCH)
        || (SIGSTOP..=SIGTTOU).contains(&signal);
    if harmless {
        return Ok(Flow::Continue);
    }
    Ok(Flow::End(Exit::Killed(KillReason::Signal(signal))))
}

/// The signal Linux would have killed a process with for `reason`.
pub fn signal_for(reason: KillReason) -> u64 {
    const SIGILL: u64 = 4;
    const SIGTRAP: u64 = 5;
    const SIGBUS: u64 = 7;
    const SIGFPE: u64 = 8;
    const SIGSEGV: u64 = 11;
    const SIGSYS: u64 = 31;
    match reason {
        KillReason::BoundsViolation { .. }
        | KillReason::BoundsError
        | KillReason::SegmentationFault(_) => SIGSEGV,
        KillReason::BadSyscall(_) => SIGSYS,
        KillReason::Signal(signal) => signal,
        // Linux's trap table (arch/x86/kernel/traps.c): #DE, #MF and #XM are SIGFPE,
        // #UD SIGILL, #DB and #BP SIGTRAP, #AC SIGBUS, the rest SIGSEGV.
        KillReason::Exception(vector) => match vector {
            0 | 16 | 19 => SIGFPE,
            1 | 3 => SIGTRAP,
            6 => SIGILL,
            17 => SIGBUS,
            _ => SIGSEGV,
        },
    }
}
