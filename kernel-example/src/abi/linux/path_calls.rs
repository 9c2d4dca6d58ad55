//! The calls that take a path: open, stat, access, readlink, getcwd, chdir, unlink
//! and rename, over the in-memory file system's flat names (`/name`; the working
//! directory is always `/`), every user pointer checked.

use super::errno::*;
use super::fd::OpenFile;
use super::procfs;
use super::state::{Args, Linux, SysResult, PID};
use crate::fs::{self, node::NodeKind, CreateError, Node};
use crate::proc::process::Process;
use crate::proc::uaccess::{copy_to_user, read_c_string, StrError};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;

/// Longest path accepted (`PATH_MAX`).
const PATH_MAX: usize = 4096;

pub(super) fn call(l: &Linux, p: &Process, number: u64, a: Args) -> SysResult {
    use nr::*;
    match number {
        OPEN => open(l, p, AT_FDCWD as u64, a.get(0), a.get(1)),
        OPENAT => open(l, p, a.get(0), a.get(1), a.get(2)),
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
        CHDIR => {
            let name = read_path(p, a.get(0))?;
            if resolve(&name) == "/" {
                Ok(0)
            } else {
                lookup(l, p, &name).and(Err(ENOTDIR))
            }
        }
        FCHDIR => l.fds.lock().get(a.get(0)).and(Err(ENOTDIR)),
        RENAME => rename(
            l,
            p,
            (AT_FDCWD as u64, a.get(0)),
            (AT_FDCWD as u64, a.get(1)),
            0,
        ),
        RENAMEAT => rename(l, p, (a.get(0), a.get(1)), (a.get(2), a.get(3)), 0),
        RENAMEAT2 => rename(l, p, (a.get(0), a.get(1)), (a.get(2), a.get(3)), a.get(4)),
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
    lookup_named(l, p, path).map(|(node, _)| node)
}

/// [`lookup`], with the name the node is filed under.
fn lookup_named(l: &Linux, p: &Process, path: &str) -> Result<(Arc<Node>, Arc<str>), i64> {
    if path.is_empty() {
        return Err(ENOENT);
    }
    let path = resolve(path);
    if let Some(rest) = path.strip_prefix("/proc/") {
        return procfs::open(l, p, rest).map(|node| (node, Arc::from(path.as_str())));
    }
    fs::lookup_named(&path).ok_or(ENOENT)
}

fn open(l: &Linux, p: &Process, dirfd: u64, path: u64, flags: u64) -> SysResult {
    let given = read_path(p, path)?;
    check_dirfd(l, dirfd, &given)?;
    // Refused before anything is created (Linux 6.4+ refuses O_CREAT|O_DIRECTORY).
    if flags & O_CREAT != 0 && flags & O_DIRECTORY != 0 {
        return Err(EINVAL);
    }
    if !l.fds.lock().has_free() {
        return Err(EMFILE);
    }
    let wants_write = flags & O_ACCMODE != 0;
    let (node, name) = match lookup_named(l, p, &given) {
        Ok(found) => {
            if flags & O_CREAT != 0 && flags & O_EXCL != 0 {
                return Err(EEXIST);
            }
            found
        }
        Err(ENOENT) if flags & O_CREAT != 0 => match fs::create(&resolve(&given)) {
            Ok(created) => created,
            Err(CreateError::BadName) => return Err(EACCES),
            Err(CreateError::NoSpace) => return Err(ENOSPC),
        },
        Err(e) => return Err(e),
    };
    match node.kind() {
        NodeKind::Directory if wants_write => return Err(EISDIR),
        NodeKind::Directory => {}
        _ if flags & O_DIRECTORY != 0 => return Err(ENOTDIR),
        _ => {}
    }
    if wants_write && matches!(*node, Node::Snapshot(_)) {
        return Err(EACCES);
    }
    // The running program's file cannot be written (Linux: ETXTBSY).
    if wants_write && fs::lookup(&l.exe).is_some_and(|exe| Arc::ptr_eq(&exe, &node)) {
        return Err(ETXTBSY);
    }
    if wants_write && flags & O_TRUNC != 0 {
        node.truncate();
    }
    let file = Arc::new(OpenFile::new(node, Some(name), flags));
    l.fds.lock().install(file, 0, flags & O_CLOEXEC != 0)
}

/// `rename` and its `*at` forms (`flags`: only `RENAME_NOREPLACE`).
fn rename(l: &Linux, p: &Process, from: (u64, u64), to: (u64, u64), flags: u64) -> SysResult {
    const RENAME_NOREPLACE: u64 = 1;
    if flags & !RENAME_NOREPLACE != 0 {
        return Err(EINVAL);
    }
    let (old, new) = (read_path(p, from.1)?, read_path(p, to.1)?);
    check_dirfd(l, from.0, &old)?;
    check_dirfd(l, to.0, &new)?;
    let (old, new) = (resolve(&old), resolve(&new));
    if flags & RENAME_NOREPLACE != 0 && fs::lookup(&new).is_some() {
        return Err(EEXIST);
    }
    match fs::rename(&old, &new) {
        Ok(true) => Ok(0),
        Ok(false) => Err(ENOENT),
        Err(CreateError::BadName) => Err(EACCES),
        Err(CreateError::NoSpace) => Err(ENOSPC),
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
pub(super) fn write_stat(p: &Process, node: &Arc<Node>, buf: u64) -> SysResult {
    let (mode, rdev) = match node.kind() {
        NodeKind::Regular => (0o100_644u32, 0u64),
        NodeKind::CharDevice => (0o020_666u32, node.device_number()),
        NodeKind::Directory => (0o040_755u32, 0),
    };
    // (Generated files report 0, as /proc does.)
    let size = if matches!(**node, Node::Snapshot(_)) {
        0
    } else {
        node.size()
    };
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
