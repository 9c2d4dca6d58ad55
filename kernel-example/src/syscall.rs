//! System-call dispatch (`int 0x80`): memory mapping, MPX management and the console.

use crate::abi::*;
use crate::cpu::XFEATURE_BNDCSR;
use crate::interrupts::TrapFrame;
use crate::process::{self, Backing, Exit, KillReason};
use crate::quirk;
use core::sync::atomic::Ordering;
use mpx::arch::Bndcfg;
use mpx::mm::{MmError, VmaKind};

const PAGE: u64 = 4096;
/// BNDCFGU flags the kernel programs: EN | BNDPRESERVE.
const BNDCFG_FLAGS: u64 = 0b11;

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

/// Handles the system call in `frame` and writes the result to `frame.rax`.
pub fn handle(frame: &mut TrapFrame) {
    let (a, b, c) = (frame.rdi, frame.rsi, frame.rdx);
    frame.rax = match frame.rax {
        SYS_EXIT => process::kill_current(Exit::Code(a)),
        SYS_WRITE => write(a, b),
        SYS_MMAP => mmap(a, b, c),
        SYS_MUNMAP => munmap(a, b),
        SYS_MPX_ENABLE => mpx_enable(a),
        SYS_MPX_DISABLE => mpx_disable(),
        SYS_MPX_STAT => mpx_stat(a),
        SYS_REPORT => report(a, b),
        n => {
            kprintln!("process killed: bad system call {}", n);
            process::kill_current(Exit::Killed(KillReason::BadSyscall(n)))
        }
    };
}

fn write(ptr: u64, len: u64) -> u64 {
    let mut buf = [0u8; 256];
    let len = len.min(buf.len() as u64) as usize;
    let root = process::current().mm.lock().read().root();
    match crate::paging::copy_from_user(root, ptr, &mut buf[..len]) {
        Ok(()) => {
            crate::serial::write_bytes(&buf[..len]);
            len as u64
        }
        Err(_) => errno(EFAULT),
    }
}

fn mmap(addr: u64, len: u64, flags: u64) -> u64 {
    let len = match len.checked_add(PAGE - 1) {
        Some(l) if len != 0 => l & !(PAGE - 1),
        _ => return errno(EINVAL),
    };
    let at = if flags & MAP_FIXED != 0 {
        Some(addr)
    } else {
        None
    };
    let process = process::current();
    process.mmap_calls.fetch_add(1, Ordering::Relaxed);
    let mut mm = process.mm.write();
    mm.map(at, len, VmaKind::Data, Backing::Anonymous, true)
        .unwrap_or_else(mm_errno)
}

fn munmap(addr: u64, len: u64) -> u64 {
    let process = process::current();
    process.munmap_calls.fetch_add(1, Ordering::Relaxed);
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
    let user = process.user();
    // The crate's one munmap call: its hook, then our removal, then the hook's result.
    let hook = process
        .mm
        .write()
        .munmap(&user, addr, end, |mm, a, b| mm.unmap(a, b, |_| true));
    process.check_table_accounting("after munmap");
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

fn mpx_enable(directory: u64) -> u64 {
    let process = process::current();
    let decoding = quirk::decoding();
    let cfg = quirk::encode_bndcfg(decoding, directory, BNDCFG_FLAGS);
    let effective = quirk::effective_base(decoding, quirk::CpuMode::Long64, cfg);
    // A directory this CPU cannot be pointed at exactly (misaligned, or bits the
    // encoding drops) is refused rather than silently moved.
    if !directory.is_multiple_of(PAGE) || effective != directory {
        kprintln!(
            "mpx: enable refused: directory {:#x} cannot be encoded",
            directory
        );
        return errno(EINVAL);
    }
    let result = { process.mm.write().enable(Bndcfg::from_raw(cfg), effective) };
    match result {
        Ok(()) => {
            let mut xsave = process.xsave.lock();
            xsave.set_bndcfgu(cfg);
            // Loaded now; takes effect at the iretq back to ring 3.
            xsave.restore(XFEATURE_BNDCSR);
            kprintln!(
                "mpx: managing tables, directory at {:#x} (BNDCFGU {:#x})",
                effective,
                cfg
            );
            0
        }
        Err(e) => {
            kprintln!("mpx: enable refused: {}", e);
            errno(ENXIO)
        }
    }
}

fn mpx_disable() -> u64 {
    let process = process::current();
    process.mm.write().disable();
    0
}

fn mpx_stat(which: u64) -> u64 {
    let process = process::current();
    let stats = process.mm.statistics();
    match which {
        STAT_TABLES_ALLOCATED => stats.tables_allocated,
        STAT_TABLES_FREED => stats.tables_freed,
        STAT_LIVE_TABLES => stats.live_tables,
        STAT_TABLE_FRAMES => process.mm.lock().read().table_frames(),
        STAT_BYTES_RELEASED => stats.bytes_released,
        STAT_FREE_FRAMES => crate::frames::free_count(),
        _ => errno(EINVAL),
    }
}

fn report(key: u64, value: u64) -> u64 {
    match process::current().reports.get(key as usize) {
        Some(slot) if value != u64::MAX => {
            slot.store(value, Ordering::Relaxed);
            0
        }
        _ => errno(EINVAL),
    }
}
