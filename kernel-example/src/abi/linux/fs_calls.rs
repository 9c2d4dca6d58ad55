//! File system calls: open, read, write and their relatives over the in-memory file
//! system, every user pointer checked (`-EFAULT`, never a kernel fault).

use super::errno::*;
use super::fd::OpenFile;
use super::procfs;
use super::state::{Args, Linux, SysResult, PID};
use crate::fs::{self, node::NodeKind, Node};
use crate::proc::process::Process;
use crate::proc::uaccess::{
    copy_from_user, copy_from_user_prefix, copy_to_user, copy_to_user_prefix, read_c_string,
    StrError,
};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;

/// Longest path accepted (`PATH_MAX`).
const PATH_MAX: usize = 4096;
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
        OPEN => open(l, p, AT_FDCWD as u64, a.get(0), a.get(1)),
        OPENAT => open(l, p, a.get(0), a.get(1), a.get(2)),
        CLOSE => l.fds.lock().close(fd).map(|()| 0),
        LSEEK => lseek(l, fd, a.get(1) as i64, a.get(2)),
        FSTAT => {
            let file = l.fds.lock().get(fd)?;
            write_stat(p, &file.node, a.get(1))
        }
        STAT | LSTAT => {
            let node = lookup(l, p, &read_path(p, a.get(0))?)?;
            write_stat(p, &node, a.get(1))
        }
        NEWFSTATAT => {
            let (dirfd, path, buf, flags) = (a.get(0), a.get(1), a.get(2), a.get(3));
            let name = read_path(p, path)?;
            let node = if flags & AT_EMPTY_PATH != 0 && name.is_empty() {
                l.fds.lock().get(dirfd)?.node.clone()
            } else {
                check_dirfd(l, dirfd, &name)?;
                lookup(l, p, &name)?
            };
            write_stat(p, &node, buf)
        }
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
        READLINK => readlink(l, p, None, a.get(0), a.get(1), a.get(2)),
        READLINKAT => readlink(l, p, Some(a.get(0)), a.get(1), a.get(2), a.get(3)),
        ACCESS | FACCESSAT => {
            let (path, mode) = if number == ACCESS {
                (read_path(p, a.get(0))?, a.get(1))
            } else {
                let name = read_path(p, a.get(1))?;
                check_dirfd(l, a.get(0), &name)?;
                (name, a.get(2))
            };
            if mode > 7 {
                return Err(EINVAL);
            }
            lookup(l, p, &path).map(|_| 0)
        }
        GETCWD => {
            if a.get(1) < 2 {
                return Err(ERANGE);
            }
            copy_to_user(p, a.get(0), b"/\0").map_err(|_| EFAULT)?;
            Ok(2)
        }
        UNLINK => {
            let path = resolve(&read_path(p, a.get(0))?);
            if fs::remove(&path) {
                Ok(0)
            } else {
                Err(ENOENT)
            }
        }
        _ => Err(ENOSYS),
    }
}

/// The `dirfd` of an `*at` call for `path`: an absolute path ignores it, and so does
/// a relative one with `AT_FDCWD` (the working directory is `/`). There are no
/// directories to open, so any other descriptor is `-ENOTDIR` (or `-EBADF` when it
/// is not open), as Linux answers for a descriptor that is not a directory.
fn check_dirfd(l: &Linux, dirfd: u64, path: &str) -> Result<(), i64> {
    if path.starts_with('/') || dirfd as i32 == AT_FDCWD as i32 {
        return Ok(());
    }
    l.fds.lock().get(dirfd)?;
    Err(ENOTDIR)
}

fn read_path(p: &Process, va: u64) -> Result<String, i64> {
    let mut buf = vec![0u8; PATH_MAX];
    let len = read_c_string(p, va, &mut buf).map_err(|e| match e {
        StrError::Fault => EFAULT,
        StrError::TooLong => ENAMETOOLONG,
    })?;
    buf.truncate(len);
    String::from_utf8(buf).map_err(|_| ENOENT)
}

/// An absolute path with `/proc/self` as this process's `/proc/<pid>`.
fn resolve(path: &str) -> String {
    let path = path.trim_start_matches("./");
    let absolute = if path.starts_with('/') {
        String::from(path)
    } else {
        alloc::format!("/{path}")
    };
    match absolute.strip_prefix("/proc/self/") {
        Some(rest) => alloc::format!("/proc/{PID}/{rest}"),
        None => absolute,
    }
}

/// The node `path` names, `/proc` files generated now.
fn lookup(l: &Linux, p: &Process, path: &str) -> Result<Arc<Node>, i64> {
    if path.is_empty() {
        return Err(ENOENT);
    }
    let path = resolve(path);
    if let Some(rest) = path.strip_prefix("/proc/") {
        return procfs::open(l, p, rest).ok_or(ENOENT);
    }
    fs::lookup(&path).ok_or(ENOENT)
}

fn open(l: &Linux, p: &Process, dirfd: u64, path: u64, flags: u64) -> SysResult {
    let given = read_path(p, path)?;
    check_dirfd(l, dirfd, &given)?;
    let name = resolve(&given);
    let wants_write = flags & O_ACCMODE != 0;
    let node = match lookup(l, p, &given) {
        Ok(node) => {
            if flags & O_CREAT != 0 && flags & O_EXCL != 0 {
                return Err(EEXIST);
            }
            node
        }
        Err(ENOENT) if flags & O_CREAT != 0 => fs::create(&name).ok_or(EACCES)?,
        Err(e) => return Err(e),
    };
    if flags & O_DIRECTORY != 0 {
        return Err(ENOTDIR);
    }
    if wants_write && matches!(*node, Node::Snapshot(_)) {
        return Err(EACCES);
    }
    if wants_write && flags & O_TRUNC != 0 {
        node.truncate();
    }
    let file = Arc::new(OpenFile::new(node, Some(Arc::from(name.as_str())), flags));
    l.fds.lock().install(file, 0, flags & O_CLOEXEC != 0)
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
            .map_err(|_| ENOMEM)?;
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

/// `readlink` (`dirfd` `None`) and `readlinkat`: only `/proc/self/exe` is a link.
fn readlink(
    l: &Linux,
    p: &Process,
    dirfd: Option<u64>,
    path: u64,
    buf: u64,
    size: u64,
) -> SysResult {
    if size as i64 <= 0 {
        return Err(EINVAL);
    }
    let given = read_path(p, path)?;
    if let Some(dirfd) = dirfd {
        check_dirfd(l, dirfd, &given)?;
    }
    if resolve(&given) != alloc::format!("/proc/{PID}/exe") {
        return lookup(l, p, &given).and(Err(EINVAL));
    }
    let target = l.exe.as_bytes();
    let n = target.len().min(size as usize);
    copy_to_user(p, buf, &target[..n]).map_err(|_| EFAULT)?;
    Ok(n as u64)
}

/// Fills a `struct stat` (x86-64 layout, 144 bytes) for `node` at `buf`.
fn write_stat(p: &Process, node: &Arc<Node>, buf: u64) -> SysResult {
    let (mode, rdev) = match node.kind() {
        NodeKind::Regular => (0o100_644u32, 0u64),
        NodeKind::CharDevice => (0o020_666u32, (1 << 8) | 3),
    };
    let size = node.size();
    let now = crate::arch::time::realtime_ns();
    let (sec, nsec) = (now / 1_000_000_000, now % 1_000_000_000);
    let mut st = [0u8; 144];
    let mut put =
        |offset: usize, bytes: &[u8]| st[offset..offset + bytes.len()].copy_from_slice(bytes);
    put(0, &1u64.to_le_bytes()); // st_dev
    put(8, &(Arc::as_ptr(node) as u64).to_le_bytes()); // st_ino
    put(16, &1u64.to_le_bytes()); // st_nlink
    put(24, &mode.to_le_bytes()); // st_mode (st_uid, st_gid 0)
    put(40, &rdev.to_le_bytes()); // st_rdev
    put(48, &size.to_le_bytes()); // st_size
    put(56, &4096u64.to_le_bytes()); // st_blksize
    put(64, &size.div_ceil(512).to_le_bytes()); // st_blocks
    for time in [72, 88, 104] {
        put(time, &sec.to_le_bytes());
        put(time + 8, &nsec.to_le_bytes());
    }
    copy_to_user(p, buf, &st).map_err(|_| EFAULT)?;
    Ok(0)
}
