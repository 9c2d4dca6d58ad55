//! The native system calls (`int 0x80`): memory mapping, MPX management, the console
//! and the scenario bookkeeping.

use super::*;
use crate::arch::trap::TrapFrame;
use crate::mm::frames;
use crate::mm::layout::PAGE;
use crate::mm::space::{At, MapRequest};
use crate::mm::vma::{Backing, Prot, VmaName};
use crate::mpx_glue::EnableRefusal;
use crate::proc::process::{
    Abi, Exit, Flow, KillReason, Process, SyscallEntry, UserFault, NOT_REPORTED,
};
use crate::proc::traps::describe;
use core::sync::atomic::Ordering;
use mpx::mm::{MmError, VmaKind};

fn errno(e: u64) -> u64 {
    e.wrapping_neg()
}

fn mm_errno(e: MmError) -> u64 {
    errno(match e {
        MmError::NoMemory | MmError::NoAddressSpace => ENOMEM,
        MmError::Fault => EFAULT,
        _ => EINVAL,
    })
}

/// The native ABI (no state of its own: everything is in the process).
#[derive(Debug)]
pub struct Native;

impl Abi for Native {
    fn syscall(&self, p: &Process, frame: &mut TrapFrame, entry: SyscallEntry) -> Flow {
        if entry != SyscallEntry::Int80 {
            kprintln!("process killed: `syscall` in a native program");
            return Flow::End(Exit::Killed(KillReason::BadSyscall(frame.rax)));
        }
        let (a, b, c) = (frame.rdi, frame.rsi, frame.rdx);
        frame.rax = match frame.rax {
            SYS_EXIT => return Flow::End(Exit::Code(a)),
            SYS_WRITE => write(p, a, b),
            SYS_MMAP => mmap(p, a, b, c),
            SYS_MUNMAP => munmap(p, a, b),
            SYS_MPX_ENABLE => mpx_enable(p, a),
            SYS_MPX_DISABLE => {
                p.mm.disable();
                0
            }
            SYS_MPX_STAT => mpx_stat(p, a),
            SYS_REPORT => report(p, a, b),
            n => {
                kprintln!("process killed: bad system call {}", n);
                return Flow::End(Exit::Killed(KillReason::BadSyscall(n)));
            }
        };
        Flow::Continue
    }

    /// Every fault the kernel cannot resolve ends a native program (the scenarios
    /// check how): it is said on the console.
    fn fault(&self, _p: &Process, frame: &mut TrapFrame, fault: UserFault) -> Flow {
        kprintln!("process killed: {}", describe(fault, frame.rip));
        Flow::End(Exit::Killed(fault.kill_reason()))
    }
}

fn write(p: &Process, ptr: u64, len: u64) -> u64 {
    let mut buf = [0u8; 256];
    let len = len.min(buf.len() as u64) as usize;
    match crate::proc::uaccess::copy_from_user(p, ptr, &mut buf[..len]) {
        Ok(()) => {
            crate::arch::serial::write_bytes(&buf[..len]);
            len as u64
        }
        Err(_) => errno(EFAULT),
    }
}

fn mmap(p: &Process, addr: u64, len: u64, flags: u64) -> u64 {
    let len = match len.checked_add(PAGE - 1) {
        Some(l) if len != 0 => l & !(PAGE - 1),
        _ => return errno(EINVAL),
    };
    let at = if flags & MAP_FIXED != 0 {
        At::Exactly(addr)
    } else {
        At::Anywhere
    };
    p.mmap_calls.fetch_add(1, Ordering::Relaxed);
    let request = MapRequest {
        at,
        len,
        kind: VmaKind::Data,
        backing: Backing::Anonymous,
        prot: Prot::READ | Prot::WRITE,
        name: VmaName::None,
    };
    p.mm.with_write(|mm| mm.map(request))
        .unwrap_or_else(mm_errno)
}

fn munmap(p: &Process, addr: u64, len: u64) -> u64 {
    p.munmap_calls.fetch_add(1, Ordering::Relaxed);
    if !addr.is_multiple_of(PAGE) || len == 0 {
        return errno(EINVAL);
    }
    let Some(end) = addr
        .checked_add(len)
        .and_then(|e| e.checked_add(PAGE - 1))
        .map(|e| e & !(PAGE - 1))
    else {
        return errno(EINVAL);
    };
    let hook = p.mm.munmap(&p.user, addr, end);
    if p.audits_unmaps() {
        p.audit("after munmap");
    }
    match hook {
        Ok(_) => 0,
        Err(e) => {
            kprintln!(
                "munmap({:#x}, {:#x}): bounds-table cleanup failed: {}",
                addr,
                len,
                e
            );
            errno(EFAULT)
        }
    }
}

fn mpx_enable(p: &Process, directory: u64) -> u64 {
    match p.mm.enable(
        &mut p.xsave.lock(),
        directory,
        crate::mpx_glue::BNDCFG_FLAGS,
    ) {
        Ok(cfg) => {
            kprintln!(
                "mpx: managing tables, directory at {:#x} (BNDCFGU {:#x})",
                directory,
                cfg
            );
            0
        }
        Err(EnableRefusal::CannotEncode) => {
            kprintln!(
                "mpx: enable refused: directory {:#x} cannot be encoded",
                directory
            );
            errno(EINVAL)
        }
        Err(EnableRefusal::Crate(e)) => {
            kprintln!("mpx: enable refused: {}", e);
            errno(ENXIO)
        }
    }
}

fn mpx_stat(p: &Process, which: u64) -> u64 {
    let stats = p.mm.statistics();
    match which {
        STAT_TABLES_ALLOCATED => stats.tables_allocated,
        STAT_TABLES_FREED => stats.tables_freed,
        STAT_LIVE_TABLES => stats.live_tables,
        STAT_TABLE_FRAMES => p.mm.read().table_frames(),
        STAT_BYTES_RELEASED => stats.bytes_released,
        STAT_FREE_FRAMES => frames::free_count(),
        STAT_PAGE_TABLE_FRAMES => p.mm.read().page_table_frames(),
        _ => errno(EINVAL),
    }
}

fn report(p: &Process, key: u64, value: u64) -> u64 {
    match p.reports.get(key as usize) {
        Some(slot) if value != NOT_REPORTED => {
            slot.store(value, Ordering::Relaxed);
            0
        }
        _ => errno(EINVAL),
    }
}
