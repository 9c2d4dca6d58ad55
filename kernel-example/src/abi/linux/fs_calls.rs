//! The calls on descriptors: read, write and their relatives, seeking, `fcntl`,
//! duplicates, `fstat`, `ftruncate`, over the in-memory file system, every user
//! pointer checked (`-EFAULT`, never a kernel fault). Calls that take a path are in
//! `path_calls`.

use super::errno::*;
use super::path_calls;
use super::state::{Args, Linux, SysResult};
use crate::fs::node::NodeError;
use crate::proc::process::Process;
use crate::proc::uaccess::{copy_from_user, copy_from_user_prefix, copy_to_user_prefix};
use alloc::vec;

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
                .filter(|&n| n < super::fd::MAX_FDS)
                .ok_or(EBADF)?;
            fds.install_at(slot, file, flags & O_CLOEXEC != 0);
            Ok(new)
        }
        _ => Err(ENOSYS),
    }
}

fn read(l: &Linux, p: &Process, fd: u64, buf: u64, count: u64, at: Option<u64>) -> SysResult {
    let file = l.fds.lock().get(fd)?;
    if !file.readable {
        return Err(EBADF);
    }
    if at.is_some() && file.node.is_stream() {
        return Err(ESPIPE);
    }
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
        offset += copied as u64;
        if copied < n {
            if done == 0 {
                return Err(EFAULT);
            }
            break;
        }
        if n < want || !positioned {
            break;
        }
    }
    if at.is_none() && positioned {
        *file.offset.lock() = offset;
    }
    Ok(done as u64)
}

fn write(l: &Linux, p: &Process, fd: u64, buf: u64, count: u64, at: Option<u64>) -> SysResult {
    let file = l.fds.lock().get(fd)?;
    if !file.writable {
        return Err(EBADF);
    }
    if at.is_some() && file.node.is_stream() {
        return Err(ESPIPE);
    }
    let count = usize::try_from(count.min(i64::MAX as u64)).map_err(|_| EINVAL)?;
    let positioned = file.node.seekable();
    let append = at.is_none() && *file.status_flags.lock() & O_APPEND != 0;
    let mut offset = at.unwrap_or_else(|| *file.offset.lock());
    let mut chunk = vec![0u8; CHUNK.min(count)];
    let mut done = 0usize;
    while done < count {
        let n = (count - done).min(CHUNK);
        // As in `read`: what the process can read of its buffer is written.
        let copied = copy_from_user_prefix(p, buf.wrapping_add(done as u64), &mut chunk[..n]);
        if copied == 0 {
            if done == 0 {
                return Err(EFAULT);
            }
            break;
        }
        offset = file
            .node
            .write_at(offset, &chunk[..copied], append)
            .map_err(node_errno)?;
        done += copied;
        if copied < n {
            break;
        }
    }
    if at.is_none() && positioned {
        *file.offset.lock() = offset;
    }
    Ok(done as u64)
}

fn vectored(l: &Linux, p: &Process, fd: u64, iov: u64, count: u64, is_write: bool) -> SysResult {
    if count > IOV_MAX {
        return Err(EINVAL);
    }
    let mut total = 0u64;
    for i in 0..count {
        let mut entry = [0u8; 16];
        copy_from_user(p, iov.wrapping_add(16 * i), &mut entry).map_err(|_| EFAULT)?;
        let base = u64::from_le_bytes(entry[..8].try_into().expect("8 bytes"));
        let len = u64::from_le_bytes(entry[8..].try_into().expect("8 bytes"));
        if len > i64::MAX as u64 {
            return Err(EINVAL);
        }
        if len == 0 {
            continue;
        }
        let n = if is_write {
            write(l, p, fd, base, len, None)
        } else {
            read(l, p, fd, base, len, None)
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
                .filter(|&n| n < super::fd::MAX_FDS)
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
    }
}
