//! Memory system calls. Everything that takes memory away (munmap, `MAP_FIXED` over
//! a mapping, a shrinking brk, mremap's old range) goes through the MPX unmap hook
//! (`mpx_glue::ProcessMm::munmap`); `MADV_DONTNEED` only releases pages, as on Linux.

use super::errno::*;
use super::state::{Args, Linux, SysResult, BRK_LIMIT};
use crate::fs::{self, Node};
use crate::mm::layout::PAGE;
use crate::mm::space::{At, MapRequest, Mm};
use crate::mm::vma::{Backing, Prot, VmaName};
use crate::proc::process::Process;
use crate::proc::uaccess::copy_to_user;
use alloc::vec;
use mpx::mm::{MmError, VmaKind};

/// The top of the user address space (Linux's `TASK_SIZE`).
pub const TASK_SIZE: u64 = 0x7fff_ffff_f000;
/// The lowest address a mapping may start at (`mmap_min_addr`).
pub const MMAP_MIN: u64 = 0x1_0000;
/// Hint addresses from here up are honoured when free.
const HINT_MIN: u64 = 0x10_0000;

const MAP_SHARED: u64 = 0x01;
const MAP_PRIVATE: u64 = 0x02;
const MAP_FIXED: u64 = 0x10;
const MAP_ANONYMOUS: u64 = 0x20;
const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;

pub(super) fn call(l: &Linux, p: &Process, number: u64, a: Args) -> SysResult {
    match number {
        nr::MMAP => mmap(l, p, a),
        nr::MUNMAP => {
            let (start, end) = range(a.get(0), a.get(1))?;
            room_for(p, start, end, 0)?;
            unmap(l, p, start, end);
            Ok(0)
        }
        nr::MPROTECT => {
            // PROT_SEM (8) is accepted and means nothing on x86.
            let bits = a.get(2);
            let prot = prot(if bits & !0xf == 0 { bits & 7 } else { bits })?;
            if !a.get(0).is_multiple_of(PAGE) {
                return Err(EINVAL);
            }
            if a.get(1) == 0 {
                return Ok(0);
            }
            let (start, end) = range(a.get(0), a.get(1))?;
            p.mm.with_write(|mm| mm.protect(start, end, prot))
                .map(|()| 0)
                .map_err(|_| ENOMEM)
        }
        nr::BRK => Ok(brk(l, p, a.get(0))),
        nr::MREMAP => mremap(l, p, a),
        nr::MADVISE => {
            let (addr, len, advice) = (a.get(0), a.get(1), a.get(2));
            if len == 0 && addr.is_multiple_of(PAGE) {
                return Ok(0);
            }
            let (start, end) = range(addr, len)?;
            if advice > 25 {
                return Err(EINVAL);
            }
            if !p.mm.read().vmas().covers(start, end) {
                return Err(ENOMEM);
            }
            const MADV_DONTNEED: u64 = 4;
            const MADV_FREE: u64 = 8;
            if advice == MADV_DONTNEED || advice == MADV_FREE {
                p.mm.with_write(|mm| {
                    mm.release(start, end);
                    refill_file_pages(mm, start, end)
                })
                .map_err(|_| ENOMEM)?;
            }
            Ok(0)
        }
        nr::MINCORE => mincore(p, a.get(0), a.get(1), a.get(2)),
        nr::MSYNC | nr::MLOCK | nr::MUNLOCK => {
            // Nothing to write back (no shared file mappings) or to lock (nothing is
            // ever paged out): the range must be mapped (`msync`: aligned; flags
            // MS_ASYNC 1, MS_INVALIDATE 2, MS_SYNC 4, not ASYNC with SYNC).
            let (addr, len) = (a.get(0), a.get(1));
            let start = if number == nr::MSYNC {
                let flags = a.get(2);
                if flags & !7 != 0 || flags & 5 == 5 {
                    return Err(EINVAL);
                }
                addr
            } else {
                addr & !(PAGE - 1)
            };
            if len == 0 && start.is_multiple_of(PAGE) {
                return Ok(0);
            }
            let len = len.checked_add(addr - start).ok_or(ENOMEM)?;
            let (start, end) = range(start, len)?;
            if p.mm.read().vmas().covers(start, end) {
                Ok(0)
            } else {
                Err(ENOMEM)
            }
        }
        nr::MLOCKALL => {
            // MCL_CURRENT 1, MCL_FUTURE 2, MCL_ONFAULT 4 (with one of the others).
            let flags = a.get(0);
            if flags == 0 || flags & !7 != 0 || flags == 4 {
                Err(EINVAL)
            } else {
                Ok(0)
            }
        }
        nr::MUNLOCKALL => Ok(0),
        _ => Err(ENOSYS),
    }
}

/// `[addr, addr + len)` rounded out to pages: `addr` page aligned, `len` not 0, the
/// end below [`TASK_SIZE`].
fn range(addr: u64, len: u64) -> Result<(u64, u64), i64> {
    if !addr.is_multiple_of(PAGE) || len == 0 {
        return Err(EINVAL);
    }
    let end = addr
        .checked_add(len)
        .and_then(|e| e.checked_next_multiple_of(PAGE))
        .ok_or(EINVAL)?;
    if end > TASK_SIZE {
        return Err(EINVAL);
    }
    Ok((addr, end))
}

fn prot(bits: u64) -> Result<Prot, i64> {
    if bits & !7 != 0 {
        return Err(EINVAL);
    }
    Ok(Prot::from_bits_truncate(bits as u8))
}

/// The munmap of `[start, end)` through the MPX hook; a hook error is noted (Linux
/// sent SIGSEGV after unmapping) and the unmap stands.
/// `-ENOMEM` unless the VMA list has room for an unmap of `[start, end)` (which may
/// split a VMA) and `extra` more VMAs ([`crate::mm::vma::MAX_VMAS`]).
fn room_for(p: &Process, start: u64, end: u64, extra: usize) -> Result<(), i64> {
    let mm = p.mm.read();
    if mm.vmas().has_room(mm.vmas().split_cost(start, end) + extra) {
        Ok(())
    } else {
        Err(ENOMEM)
    }
}

fn unmap(l: &Linux, p: &Process, start: u64, end: u64) {
    if let Err(e) = p.mm.munmap(&p.user, start, end) {
        l.note(alloc::format!(
            "munmap({start:#x}, {:#x}): bounds-table cleanup failed: {e}",
            end - start
        ));
    }
}

fn mmap(l: &Linux, p: &Process, a: Args) -> SysResult {
    let (addr, len, prot_bits, flags, fd, offset) =
        (a.get(0), a.get(1), a.get(2), a.get(3), a.get(4), a.get(5));
    // Linux's mmap ignores protection bits it does not know (mprotect refuses them).
    let prot = prot(prot_bits & 7)?;
    let len = match len.checked_next_multiple_of(PAGE) {
        Some(len) if len != 0 => len,
        Some(_) => return Err(EINVAL),
        None => return Err(ENOMEM),
    };
    if !offset.is_multiple_of(PAGE) || flags & (MAP_SHARED | MAP_PRIVATE) == 0 {
        return Err(EINVAL);
    }
    if flags & MAP_ANONYMOUS == 0 && offset.checked_add(len).is_none() {
        return Err(EOVERFLOW);
    }
    let device = (flags & MAP_ANONYMOUS == 0)
        .then(|| l.fds.lock().get(fd))
        .transpose()?;
    // A private copy of a file's bytes (copied in below, a page at a time, up to the
    // file's end), or zeros (anonymous memory, or /dev/zero, as Linux maps it).
    let zero_device = device
        .as_ref()
        .is_some_and(|f| matches!(*f.node, Node::Zero));
    let (source, name) = if flags & MAP_ANONYMOUS != 0 || zero_device {
        (None, VmaName::None)
    } else {
        let file = device.ok_or(EBADF)?;
        if !file.node.seekable() || !file.readable {
            return Err(EACCES);
        }
        if flags & MAP_SHARED != 0 {
            return Err(ENODEV);
        }
        let path = file.path.clone().unwrap_or_else(|| "/".into());
        (Some(file.node.clone()), VmaName::File(path, offset))
    };
    let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
    let at = if fixed {
        if !addr.is_multiple_of(PAGE) {
            return Err(EINVAL);
        }
        if addr < MMAP_MIN {
            return Err(EPERM);
        }
        if addr.checked_add(len).is_none_or(|end| end > TASK_SIZE) {
            return Err(ENOMEM);
        }
        if flags & MAP_FIXED_NOREPLACE != 0 {
            if !p.mm.read().vmas().is_free(addr, addr + len) {
                return Err(EEXIST);
            }
        } else {
            room_for(p, addr, addr + len, 1)?;
            unmap(l, p, addr, addr + len);
        }
        At::Exactly(addr)
    } else if addr >= HINT_MIN && addr.checked_add(len).is_some_and(|e| e <= TASK_SIZE) {
        At::Hint(addr & !(PAGE - 1))
    } else {
        At::Anywhere
    };
    let request = MapRequest {
        at,
        len,
        kind: VmaKind::Data,
        backing: Backing::Anonymous,
        prot,
        name,
    };
    let start = p.mm.with_write(|mm| {
        let start = mm.map(request)?;
        if let Some(node) = &source {
            let mut page = [0u8; PAGE as usize];
            let mut done = 0;
            while done < len {
                let n = node.read_at(offset.saturating_add(done), &mut page);
                if n == 0 {
                    break;
                }
                if let Err(e) = mm.write_bytes(start + done, &page[..n]) {
                    mm.unmap(start, start + len, |_| true);
                    return Err(e);
                }
                done += PAGE;
            }
        }
        Ok(start)
    });
    start.map_err(|e| match e {
        MmError::Invalid => EINVAL,
        _ => ENOMEM,
    })
}

fn brk(l: &Linux, p: &Process, wanted: u64) -> u64 {
    let mut brk = l.brk.lock();
    if wanted < brk.start || wanted > brk.start + BRK_LIMIT {
        return brk.end;
    }
    let old_top = brk.end.next_multiple_of(PAGE);
    let new_top = wanted.next_multiple_of(PAGE);
    if new_top > old_top {
        let grown = p.mm.with_write(|mm| {
            if old_top > brk.start && mm.extend(brk.start, new_top).is_ok() {
                return true;
            }
            let request = MapRequest {
                at: At::Exactly(old_top),
                len: new_top - old_top,
                kind: VmaKind::Data,
                backing: Backing::Anonymous,
                prot: Prot::READ | Prot::WRITE,
                name: VmaName::Heap,
            };
            mm.map(request).is_ok()
        });
        if !grown {
            return brk.end;
        }
    } else if new_top < old_top {
        unmap(l, p, new_top, old_top);
    }
    brk.end = wanted;
    wanted
}

fn mremap(l: &Linux, p: &Process, a: Args) -> SysResult {
    const MAYMOVE: u64 = 1;
    const FIXED: u64 = 2;
    let (old, old_len, new_len, flags, new_addr) =
        (a.get(0), a.get(1), a.get(2), a.get(3), a.get(4));
    if flags & !(MAYMOVE | FIXED) != 0 || (flags & FIXED != 0 && flags & MAYMOVE == 0) {
        return Err(EINVAL);
    }
    let (old, old_end) = range(old, old_len)?;
    let (_, new_len) = range(0, new_len).map(|(_, end)| (0, end))?;
    let vma =
        p.mm.read()
            .vmas()
            .find(old)
            .filter(|v| v.vma.end >= old_end && !v.vma.is_bounds_table())
            .cloned()
            .ok_or(EFAULT)?;
    let old_len = old_end - old;
    // A new VMA like the old one at `target` (or at a free range found under the same
    // lock), the pages moved over, then the old range (now without pages) through
    // the hook.
    let moved_to = |target: Option<u64>, p: &Process| -> SysResult {
        let keep = old_len.min(new_len);
        let target =
            p.mm.with_write(|mm| {
                let target = target
                    .or_else(|| mm.find_free(new_len))
                    .ok_or(MmError::NoAddressSpace)?;
                let mut copy = vma.piece(old, old_end);
                copy.vma.start = target;
                copy.vma.end = target + new_len;
                mm.insert(copy)?;
                if let Err(e) = mm.move_pages(old, target, keep) {
                    // Out of page-table frames: the pages go back (their old tables
                    // are still there) and the new VMA goes; the old range is intact.
                    let _ = mm.move_pages(target, old, keep);
                    mm.unmap(target, target + new_len, |_| true);
                    return Err(e);
                }
                Ok::<u64, MmError>(target)
            })
            .map_err(|_| ENOMEM)?;
        unmap(l, p, old, old_end);
        Ok(target)
    };
    if flags & FIXED != 0 {
        let (target, target_end) = range(new_addr, new_len)?;
        if target < old_end && old < target_end {
            return Err(EINVAL);
        }
        // The target's unmap may split one VMA, the old range's another.
        room_for(
            p,
            target,
            target_end,
            1 + p.mm.read().vmas().split_cost(old, old_end),
        )?;
        unmap(l, p, target, target_end);
        return moved_to(Some(target), p);
    }
    if new_len <= old_len {
        if new_len < old_len {
            room_for(p, old + new_len, old_end, 0)?;
            unmap(l, p, old + new_len, old_end);
        }
        return Ok(old);
    }
    let grown_in_place = vma.vma.end == old_end
        && p.mm
            .with_write(|mm| mm.extend(vma.vma.start, old + new_len))
            .is_ok();
    if grown_in_place {
        return Ok(old);
    }
    if flags & MAYMOVE == 0 {
        return Err(ENOMEM);
    }
    room_for(p, old, old_end, 1)?;
    moved_to(None, p)
}

fn mincore(p: &Process, addr: u64, len: u64, vec_addr: u64) -> SysResult {
    if !addr.is_multiple_of(PAGE) {
        return Err(EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    let (start, end) = range(addr, len).map_err(|_| ENOMEM)?;
    if !p.mm.read().vmas().covers(start, end) {
        return Err(ENOMEM);
    }
    const BATCH: u64 = 4096;
    let pages = (end - start) / PAGE;
    let mut out = vec![0u8; BATCH.min(pages) as usize];
    let mut done = 0;
    while done < pages {
        let n = BATCH.min(pages - done);
        {
            let mm = p.mm.read();
            for (i, byte) in out[..n as usize].iter_mut().enumerate() {
                *byte = u8::from(mm.is_resident(start + (done + i as u64) * PAGE));
            }
        }
        copy_to_user(p, vec_addr + done, &out[..n as usize]).map_err(|_| EFAULT)?;
        done += n;
    }
    Ok(0)
}

/// After `MADV_DONTNEED`: the pages of private file mappings in `[start, end)` read
/// their file's bytes again, as on Linux (anonymous pages read zeros).
fn refill_file_pages(mm: &mut Mm, start: u64, end: u64) -> Result<(), MmError> {
    let mut cursor = start;
    while let Some(vma) = mm
        .vmas()
        .after(cursor)
        .filter(|v| v.vma.start < end)
        .cloned()
    {
        cursor = vma.vma.end;
        let VmaName::File(path, offset) = &vma.name else {
            continue;
        };
        let Some(node) = fs::lookup(path) else {
            continue;
        };
        let (from, to) = (vma.vma.start.max(start), vma.vma.end.min(end));
        let mut page = [0u8; PAGE as usize];
        let mut at = from;
        while at < to {
            let n = node.read_at(offset + (at - vma.vma.start), &mut page);
            if n == 0 {
                break;
            }
            mm.write_bytes(at, &page[..n])?;
            at += PAGE;
        }
    }
    Ok(())
}
