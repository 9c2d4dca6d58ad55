//! The rest: identities, `uname`, `arch_prctl`, limits, randomness, clocks and
//! sleeping.

use super::errno::*;
use super::fd::MAX_FDS;
use super::state::{Args, Linux, SysResult, PID, RLIMITS, RLIMIT_NOFILE};
use crate::arch::time::{self, NANOS};
use crate::arch::{cpu, random};
use crate::mm::frames;
use crate::mm::layout::PAGE;
use crate::proc::process::Process;
use crate::proc::uaccess::{copy_from_user, copy_to_user, copy_to_user_prefix};
use core::sync::atomic::Ordering;

/// `uname`'s release: glibc wants at least 3.2; MPX management existed 3.19-5.5.
pub const RELEASE: &str = "5.5.0-mpx";

pub(super) fn call(l: &Linux, p: &Process, number: u64, a: Args) -> SysResult {
    use nr::*;
    match number {
        GETPID | GETTID => Ok(PID),
        GETPPID => Ok(0),
        GETUID | GETGID | GETEUID | GETEGID => Ok(0),
        SCHED_YIELD => Ok(0),
        SET_TID_ADDRESS => Ok(PID),
        SET_ROBUST_LIST => {
            // One `struct robust_list_head` (24 bytes) or nothing.
            if a.get(1) == 24 {
                Ok(0)
            } else {
                Err(EINVAL)
            }
        }
        UNAME => uname(p, a.get(0)),
        UMASK => Ok(l.umask.swap(a.get(0) & 0o777, Ordering::Relaxed)),
        SCHED_GETAFFINITY => {
            // One CPU: a mask of one `unsigned long` with bit 0; Linux wants room for
            // its whole mask (`len` a multiple of 8, at least 8) and returns its size.
            let (pid, len, mask) = (a.get(0), a.get(1), a.get(2));
            if pid != 0 && pid != PID {
                return Err(ESRCH);
            }
            if len < 8 || len % 8 != 0 {
                return Err(EINVAL);
            }
            copy_to_user(p, mask, &1u64.to_le_bytes()).map_err(|_| EFAULT)?;
            Ok(8)
        }
        SCHED_SETAFFINITY => {
            let (pid, len, mask) = (a.get(0), a.get(1), a.get(2));
            if pid != 0 && pid != PID {
                return Err(ESRCH);
            }
            let mut first = [0u8; 8];
            let n = (len as usize).min(8);
            copy_from_user(p, mask, &mut first[..n]).map_err(|_| EFAULT)?;
            // CPU 0 must be in it: there is no other.
            if first[0] & 1 == 0 {
                return Err(EINVAL);
            }
            Ok(0)
        }
        GETRUSAGE => {
            // RUSAGE_SELF 0, RUSAGE_CHILDREN -1, RUSAGE_THREAD 1. The process has had
            // the CPU since it started: all of it is user time; no children.
            let (who, buf) = (a.get(0) as i64, a.get(1));
            if !(-1..=1).contains(&who) {
                return Err(EINVAL);
            }
            let mut usage = [0u8; 144];
            if who != -1 {
                let ns = time::monotonic_ns().saturating_sub(l.started_ns);
                usage[..8].copy_from_slice(&(ns / NANOS).to_le_bytes());
                usage[8..16].copy_from_slice(&((ns % NANOS) / 1000).to_le_bytes());
            }
            copy_to_user(p, buf, &usage).map_err(|_| EFAULT)?;
            Ok(0)
        }
        SYSINFO => sysinfo(p, a.get(0)),
        ARCH_PRCTL => arch_prctl(p, a.get(0), a.get(1)),
        GETRLIMIT => rlimit(l, p, a.get(0), None, Some(a.get(1))),
        PRLIMIT64 => {
            if a.get(0) != 0 && a.get(0) != PID {
                return Err(ESRCH);
            }
            let new = Some(a.get(2)).filter(|&new| new != 0);
            rlimit(l, p, a.get(1), new, Some(a.get(3)).filter(|&old| old != 0))
        }
        SETRLIMIT => rlimit(l, p, a.get(0), Some(a.get(1)), None),
        GETRANDOM => {
            let (buf, len, flags) = (a.get(0), a.get(1), a.get(2));
            // GRND_NONBLOCK 1, GRND_RANDOM 2, GRND_INSECURE 4 (not with RANDOM).
            if flags & !7 != 0 || flags & 6 == 6 {
                return Err(EINVAL);
            }
            // Linux returns at most 32 MiB - 1 per call; a page at a time here.
            let len = len.min((1 << 25) - 1) as usize;
            let mut page = [0u8; PAGE as usize];
            let mut done = 0;
            while done < len {
                let n = (len - done).min(page.len());
                random::fill(&mut page[..n]);
                // As Linux: a buffer that runs into an unmapped page gets what fits.
                let copied = copy_to_user_prefix(p, buf.wrapping_add(done as u64), &page[..n]);
                done += copied;
                if copied < n {
                    break;
                }
            }
            if done == 0 && len > 0 {
                return Err(EFAULT);
            }
            Ok(done as u64)
        }
        CLOCK_GETTIME => {
            let now = clock(a.get(0))?;
            write_timespec(p, a.get(1), now)
        }
        CLOCK_GETRES => {
            clock(a.get(0))?;
            if a.get(1) == 0 {
                return Ok(0);
            }
            write_timespec(p, a.get(1), 1)
        }
        GETTIMEOFDAY => {
            let now = time::realtime_ns();
            if a.get(0) != 0 {
                let mut tv = [0u8; 16];
                tv[..8].copy_from_slice(&(now / NANOS).to_le_bytes());
                tv[8..].copy_from_slice(&((now % NANOS) / 1000).to_le_bytes());
                copy_to_user(p, a.get(0), &tv).map_err(|_| EFAULT)?;
            }
            if a.get(1) != 0 {
                copy_to_user(p, a.get(1), &[0u8; 8]).map_err(|_| EFAULT)?;
            }
            Ok(0)
        }
        TIME => {
            let seconds = time::realtime_ns() / NANOS;
            if a.get(0) != 0 {
                copy_to_user(p, a.get(0), &seconds.to_le_bytes()).map_err(|_| EFAULT)?;
            }
            Ok(seconds)
        }
        NANOSLEEP => {
            let duration = read_timespec(p, a.get(0))?;
            time::wait_until(time::monotonic_ns().saturating_add(duration));
            Ok(0)
        }
        CLOCK_NANOSLEEP => {
            const TIMER_ABSTIME: u64 = 1;
            let (clk, flags, request) = (a.get(0), a.get(1), a.get(2));
            let now = clock(clk)?;
            let value = read_timespec(p, request)?;
            let wait = if flags & TIMER_ABSTIME != 0 {
                value.saturating_sub(now)
            } else {
                value
            };
            time::wait_until(time::monotonic_ns().saturating_add(wait));
            Ok(0)
        }
        _ => Err(ENOSYS),
    }
}

/// The time of clock `id` in nanoseconds (`EINVAL` for an unknown clock).
fn clock(id: u64) -> Result<u64, i64> {
    match id {
        // REALTIME, REALTIME_COARSE, REALTIME_ALARM, TAI
        0 | 5 | 8 | 11 => Ok(time::realtime_ns()),
        // MONOTONIC, the CPU-time clocks (one process, always running), MONOTONIC_RAW,
        // MONOTONIC_COARSE, BOOTTIME, BOOTTIME_ALARM
        1 | 2 | 3 | 4 | 6 | 7 | 9 => Ok(time::monotonic_ns()),
        _ => Err(EINVAL),
    }
}

fn write_timespec(p: &Process, va: u64, ns: u64) -> SysResult {
    let mut ts = [0u8; 16];
    ts[..8].copy_from_slice(&(ns / NANOS).to_le_bytes());
    ts[8..].copy_from_slice(&(ns % NANOS).to_le_bytes());
    copy_to_user(p, va, &ts).map_err(|_| EFAULT)?;
    Ok(0)
}

/// A `struct timespec` from user memory, in nanoseconds (`EINVAL` unless
/// `0 <= tv_nsec < 10^9` and `tv_sec >= 0`).
fn read_timespec(p: &Process, va: u64) -> Result<u64, i64> {
    let mut ts = [0u8; 16];
    copy_from_user(p, va, &mut ts).map_err(|_| EFAULT)?;
    let sec = i64::from_le_bytes(ts[..8].try_into().expect("8 bytes"));
    let nsec = i64::from_le_bytes(ts[8..].try_into().expect("8 bytes"));
    if sec < 0 || !(0..NANOS as i64).contains(&nsec) {
        return Err(EINVAL);
    }
    Ok((sec as u64)
        .saturating_mul(NANOS)
        .saturating_add(nsec as u64))
}

/// `sysinfo`: uptime, RAM (total and free frames) and one process; no swap, no load.
fn sysinfo(p: &Process, buf: u64) -> SysResult {
    // `struct sysinfo` on x86-64 (112 bytes): uptime at 0, loads[3] at 8, totalram at
    // 32, freeram at 40, ..., procs (u16) at 80, mem_unit (u32) at 104.
    let mut info = [0u8; 112];
    let mut put = |offset: usize, bytes: &[u8]| {
        info[offset..offset + bytes.len()].copy_from_slice(bytes);
    };
    put(0, &(time::monotonic_ns() / NANOS).to_le_bytes());
    put(32, &(frames::total_count() * PAGE).to_le_bytes());
    put(40, &(frames::free_count() * PAGE).to_le_bytes());
    put(80, &1u16.to_le_bytes());
    put(104, &1u32.to_le_bytes());
    copy_to_user(p, buf, &info).map_err(|_| EFAULT)?;
    Ok(0)
}

fn uname(p: &Process, buf: u64) -> SysResult {
    let mut uts = [0u8; 65 * 6];
    let fields = [
        "Linux",
        "mpx",
        RELEASE,
        "#1 SMP mpx example kernel",
        "x86_64",
        "(none)",
    ];
    for (i, field) in fields.iter().enumerate() {
        uts[65 * i..65 * i + field.len()].copy_from_slice(field.as_bytes());
    }
    copy_to_user(p, buf, &uts).map_err(|_| EFAULT)?;
    Ok(0)
}

fn arch_prctl(p: &Process, code: u64, addr: u64) -> SysResult {
    const ARCH_SET_GS: u64 = 0x1001;
    const ARCH_SET_FS: u64 = 0x1002;
    const ARCH_GET_FS: u64 = 0x1003;
    const ARCH_GET_GS: u64 = 0x1004;
    match code {
        ARCH_SET_FS => {
            if addr >= super::mem_calls::TASK_SIZE || !cpu::set_fs_base(addr) {
                return Err(EPERM);
            }
            Ok(0)
        }
        ARCH_GET_FS => {
            copy_to_user(p, addr, &cpu::fs_base().to_le_bytes()).map_err(|_| EFAULT)?;
            Ok(0)
        }
        ARCH_SET_GS | ARCH_GET_GS => Err(EINVAL),
        // Unknown codes (glibc's CET probe among them) are invalid.
        _ => Err(EINVAL),
    }
}

/// `getrlimit`, `setrlimit` and `prlimit64` for `resource`: writes the old
/// `{cur, max}` to `old` and then sets `new`, if given. Limits are kept per process;
/// `RLIMIT_NOFILE` is enforced (at most 1024 here: higher is `-EPERM`), the others
/// only remembered.
fn rlimit(l: &Linux, p: &Process, resource: u64, new: Option<u64>, old: Option<u64>) -> SysResult {
    let index = usize::try_from(resource)
        .ok()
        .filter(|&r| r < RLIMITS)
        .ok_or(EINVAL)?;
    let wanted = match new {
        Some(va) => {
            let mut bytes = [0u8; 16];
            copy_from_user(p, va, &mut bytes).map_err(|_| EFAULT)?;
            let word =
                |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]));
            let (cur, max) = (word(0), word(8));
            if cur > max {
                return Err(EINVAL);
            }
            if resource == RLIMIT_NOFILE && max > MAX_FDS as u64 {
                return Err(EPERM);
            }
            Some((cur, max))
        }
        None => None,
    };
    let mut limits = l.limits.lock();
    if let Some(old) = old {
        let (cur, max) = limits[index];
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&cur.to_le_bytes());
        out[8..].copy_from_slice(&max.to_le_bytes());
        copy_to_user(p, old, &out).map_err(|_| EFAULT)?;
    }
    if let Some(limit) = wanted {
        limits[index] = limit;
        if resource == RLIMIT_NOFILE {
            l.fds.lock().set_limit(limit.0 as usize);
        }
    }
    Ok(0)
}
