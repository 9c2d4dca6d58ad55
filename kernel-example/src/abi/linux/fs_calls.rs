//! The calls on descriptors: read, write and their relatives, seeking, `fcntl`,
//! duplicates, `fstat`, `ftruncate`, over the in-memory file system, every user
//! pointer checked (`-EFAULT`, never a kernel fault). Calls that take a path are in
//! `path_calls`.

use super::errno::*;
use super::fd::OpenFile;
use super::path_calls;
use super::state::{Args, Linux, SysResult};
use crate::fs::node::{NodeError, NodeKind};
use crate::fs::{self, Node};
use crate::proc::process::Process;
use crate::proc::uaccess::{
    copy_from_user, copy_from_user_prefix, copy_to_user, copy_to_user_prefix,
};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

/// Bytes moved per kernel buffer in reads and writes.
const CHUNK: usize = 4096;
/// Most `iovec`s in one `readv`/`writev` (`IOV_MAX`).
const IOV_MAX: u64 = 1024;

pub(super) fn call(l: &Linux, p: &Process, number: u64, a: Args) -> SysResult {
    use nr::*;
    let fd = a.get(0);
    match number {
        READ => read(l, p, fd, a.get(1), a.get(2), None),
        WRITE => write(l, p, fd, a.get(1), a.get(2), None),
        PREAD64 => read(l, p, fd, a.get(1), a.get(2), Some(a.get(3))),
        PWRITE64 => write(l, p, fd, a.get(1), a.get(2), Some(a.get(3))),
        READV => vectored(l, p, fd, a.get(1), a.get(2), false),
        WRITEV => vectored(l, p, fd, a.get(1), a.get(2), true),
        CLOSE => l.fds.lock().close(fd).map(|()| 0),
        LSEEK => lseek(l, fd, a.get(1) as i64, a.get(2)),
        FSTAT => {
            let file = l.fds.lock().get(fd)?;
            path_calls::write_stat(p, &file.node, a.get(1))
        }
        FTRUNCATE => {
            let file = l.fds.lock().get(fd)?;
            if !file.writable {
                return Err(EINVAL);
            }
            if (a.get(1) as i64) < 0 {
                return Err(EINVAL);
            }
            file.node.set_len(a.get(1)).map(|()| 0).map_err(node_errno)
        }
        FSYNC | FDATASYNC => l.fds.lock().get(fd).map(|_| 0),
        GETDENTS64 => getdents(l, p, fd, a.get(1), a.get(2)),
        IOCTL => l.fds.lock().get(fd).and(Err(ENOTTY)),
        FCNTL => fcntl(l, fd, a.get(1), a.get(2)),
        DUP => {
            let mut fds = l.fds.lock();
            let file = fds.get(fd)?;
            fds.install(file, 0, false)
        }
        DUP2 | DUP3 => {
            let (new, flags) = (a.get(1), if number == DUP3 { a.get(2) } else { 0 });
            if flags & !O_CLOEXEC != 0 || (number == DUP3 && new == fd) {
                return Err(EINVAL);
            }
            let mut fds = l.fds.lock();
            let file = fds.get(fd)?;
            if new == fd {
                return Ok(new);
            }
            let slot = usize::try_from(new)
                .ok()
                .filter(|&n| n < fds.limit())
                .ok_or(EBADF)?;
            fds.install_at(slot, file, flags & O_CLOEXEC != 0);
            Ok(new)
        }
        _ => Err(ENOSYS),
    }
}

/// The descriptor `fd` as `read`, `write` and their relatives take it: open for the
/// direction, and a file with positions if `at` (a `pread`/`pwrite` offset) is given,
/// which must not be negative.
fn for_io(l: &Linux, fd: u64, at: Option<u64>, writing: bool) -> Result<Arc<OpenFile>, i64> {
    let file = l.fds.lock().get(fd)?;
    if !(if writing {
        file.writable
    } else {
        file.readable
    }) {
        return Err(EBADF);
    }
    if matches!(*file.node, Node::Directory) {
        return Err(EISDIR);
    }
    if let Some(offset) = at {
        if file.node.is_stream() {
            return Err(ESPIPE);
        }
        if (offset as i64) < 0 {
            return Err(EINVAL);
        }
    }
    Ok(file)
}

fn read(l: &Linux, p: &Process, fd: u64, buf: u64, count: u64, at: Option<u64>) -> SysResult {
    let file = for_io(l, fd, at, false)?;
    read_file(p, &file, buf, count, at)
}

fn read_file(p: &Process, file: &OpenFile, buf: u64, count: u64, at: Option<u64>) -> SysResult {
    let count = usize::try_from(count.min(i64::MAX as u64)).map_err(|_| EINVAL)?;
    let positioned = file.node.seekable();
    let mut offset = at.unwrap_or_else(|| *file.offset.lock());
    let mut chunk = vec![0u8; CHUNK.min(count)];
    let mut done = 0usize;
    while done < count {
        let want = (count - done).min(CHUNK);
        let n = file.node.read_at(offset, &mut chunk[..want]);
        if n == 0 {
            break;
        }
        // A buffer that runs into memory the process cannot write takes what fits
        // (a short read, as on Linux); nothing fits at all: EFAULT.
        let copied = copy_to_user_prefix(p, buf.wrapping_add(done as u64), &chunk[..n]);
        done += copied;
        offset = offset.saturating_add(copied as u64);
        if copied < n {
            if done == 0 {
                return Err(EFAULT);
            }
            break;
        }
        if n < want {
            break;
        }
    }
    if at.is_none() && positioned {
        *file.offset.lock() = offset;
    }
    Ok(done as u64)
}

fn write(l: &Linux, p: &Process, fd: u64, buf: u64, count: u64, at: Option<u64>) -> SysResult {
    let file = for_io(l, fd, at, true)?;
    write_file(p, &file, buf, count, at)
}

fn write_file(p: &Process, file: &OpenFile, buf: u64, count: u64, at: Option<u64>) -> SysResult {
    let count = usize::try_from(count.min(i64::MAX as u64)).map_err(|_| EINVAL)?;
    let positioned = file.node.seekable();
    // O_APPEND appends even for pwrite, as Linux does (pwrite(2), BUGS).
    let append = *file.status_flags.lock() & O_APPEND != 0;
    let mut offset = at.unwrap_or_else(|| *file.offset.lock());
    let mut chunk = vec![0u8; CHUNK.min(count)];
    let mut done = 0usize;
    let mut failure = None;
    while done < count {
        let n = (count - done).min(CHUNK);
        // As in `read`: what the process can read of its buffer is written.
        let copied = copy_from_user_prefix(p, buf.wrapping_add(done as u64), &mut chunk[..n]);
        if copied == 0 {
            failure = Some(EFAULT);
            break;
        }
        match file.node.write_at(offset, &chunk[..copied], append) {
            Ok(end) => offset = end,
            Err(e) => {
                failure = Some(node_errno(e));
                break;
            }
        }
        done += copied;
        if copied < n {
            break;
        }
    }
    if at.is_none() && positioned {
        *file.offset.lock() = offset;
    }
    // A write that moved some bytes reports them, whatever stopped it (Linux).
    match failure {
        Some(errno) if done == 0 => Err(errno),
        _ => Ok(done as u64),
    }
}

/// `readv` and `writev`: the descriptor and the whole `iovec` array are checked
/// before any byte moves (`-EBADF`, `-EFAULT`, `-EINVAL` when a length or the total
/// exceeds `SSIZE_MAX`), then each buffer in turn, stopping at the first short one.
fn vectored(l: &Linux, p: &Process, fd: u64, iov: u64, count: u64, is_write: bool) -> SysResult {
    let file = for_io(l, fd, None, is_write)?;
    if count > IOV_MAX {
        return Err(EINVAL);
    }
    let mut vectors = vec![0u8; 16 * count as usize];
    copy_from_user(p, iov, &mut vectors).map_err(|_| EFAULT)?;
    let word = |at: usize| u64::from_le_bytes(vectors[at..at + 8].try_into().unwrap_or([0; 8]));
    let mut sum = 0u64;
    for i in 0..count as usize {
        sum = sum.checked_add(word(16 * i + 8)).ok_or(EINVAL)?;
        if sum > i64::MAX as u64 {
            return Err(EINVAL);
        }
    }
    let mut total = 0u64;
    for i in 0..count as usize {
        let (base, len) = (word(16 * i), word(16 * i + 8));
        if len == 0 {
            continue;
        }
        let n = if is_write {
            write_file(p, &file, base, len, None)
        } else {
            read_file(p, &file, base, len, None)
        };
        match n {
            Ok(n) => {
                total += n;
                if n < len {
                    break;
                }
            }
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(total)
}

fn lseek(l: &Linux, fd: u64, offset: i64, whence: u64) -> SysResult {
    let file = l.fds.lock().get(fd)?;
    if file.node.is_stream() {
        return Err(ESPIPE);
    }
    if !file.node.seekable() {
        return Ok(0);
    }
    let mut position = file.offset.lock();
    let base = match whence {
        0 => 0,
        1 => *position as i64,
        2 => file.node.size() as i64,
        _ => return Err(EINVAL),
    };
    let new = base.checked_add(offset).filter(|&n| n >= 0).ok_or(EINVAL)?;
    *position = new as u64;
    Ok(new as u64)
}

fn fcntl(l: &Linux, fd: u64, command: u64, arg: u64) -> SysResult {
    const F_DUPFD: u64 = 0;
    const F_GETFD: u64 = 1;
    const F_SETFD: u64 = 2;
    const F_GETFL: u64 = 3;
    const F_SETFL: u64 = 4;
    const F_DUPFD_CLOEXEC: u64 = 1030;
    let mut fds = l.fds.lock();
    let file = fds.get(fd)?;
    match command {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let from = usize::try_from(arg)
                .ok()
                .filter(|&n| n < fds.limit())
                .ok_or(EINVAL)?;
            fds.install(file, from, command == F_DUPFD_CLOEXEC)
        }
        F_GETFD => fds.cloexec(fd).map(u64::from),
        F_SETFD => fds.set_cloexec(fd, arg & 1 != 0).map(|()| 0),
        F_GETFL => Ok(file.flags()),
        F_SETFL => {
            const CHANGEABLE: u64 = O_APPEND | 0x800; // O_APPEND | O_NONBLOCK
            *file.status_flags.lock() = arg & CHANGEABLE;
            Ok(0)
        }
        _ => Err(EINVAL),
    }
}

/// The errno for a node's refusal.
fn node_errno(e: NodeError) -> i64 {
    match e {
        NodeError::NoSpace => ENOSPC,
        NodeError::ReadOnly => EBADF,
        NodeError::NotRegular => EINVAL,
        NodeError::IsDirectory => EISDIR,
    }
}

/// `getdents64` on `/` (the only directory): `.`, `..`, then the names directly
/// under it, as `struct linux_dirent64` records (`d_ino`, `d_off`, `d_reclen`,
/// `d_type`, the name and its NUL, padded to 8 bytes); the descriptor's offset counts
/// records.
fn getdents(l: &Linux, p: &Process, fd: u64, buf: u64, count: u64) -> SysResult {
    const DT_CHR: u8 = 2;
    const DT_DIR: u8 = 4;
    const DT_REG: u8 = 8;
    let file = l.fds.lock().get(fd)?;
    if !matches!(*file.node, Node::Directory) {
        return Err(ENOTDIR);
    }
    let names = fs::root_names();
    let mut position = file.offset.lock();
    let mut out = Vec::new();
    let mut index = *position as usize;
    while index < names.len() + 2 {
        let (name, kind): (&str, u8) = match index {
            0 => (".", DT_DIR),
            1 => ("..", DT_DIR),
            i => {
                let name = &names[i - 2];
                let kind = match fs::lookup(name).map(|n| n.kind()) {
                    Some(NodeKind::Directory) => DT_DIR,
                    Some(NodeKind::CharDevice) => DT_CHR,
                    _ => DT_REG,
                };
                (&name[1..], kind)
            }
        };
        let reclen = (19 + name.len() + 1).next_multiple_of(8);
        if (out.len() + reclen) as u64 > count {
            if out.is_empty() {
                return Err(EINVAL);
            }
            break;
        }
        let start = out.len();
        out.resize(start + reclen, 0);
        let record = &mut out[start..];
        record[..8].copy_from_slice(&(index as u64 + 1).to_le_bytes());
        record[8..16].copy_from_slice(&(index as u64 + 1).to_le_bytes());
        record[16..18].copy_from_slice(&(reclen as u16).to_le_bytes());
        record[18] = kind;
        record[19..19 + name.len()].copy_from_slice(name.as_bytes());
        index += 1;
    }
    copy_to_user(p, buf, &out).map_err(|_| EFAULT)?;
    *position = index as u64;
    Ok(out.len() as u64)
}
