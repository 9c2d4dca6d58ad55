//! `/proc/<pid>/maps`, `/proc/<pid>/status` and `/proc/<pid>/exe`: generated when
//! opened, in Linux's formats.

use super::errno::{ENOENT, ENOMEM};
use super::state::{Linux, PID};
use crate::fs::{self, Node};
use crate::mm::vma::{Prot, VmaName};
use crate::proc::process::Process;
use alloc::string::String;
use alloc::sync::Arc;
use core::fmt::Write;

/// The node for `/proc/<rest>`: `-ENOENT` if there is none, `-ENOMEM` if the file
/// budget cannot hold its text now.
pub(super) fn open(l: &Linux, p: &Process, rest: &str) -> Result<Arc<Node>, i64> {
    let (pid, file) = rest.split_once('/').ok_or(ENOENT)?;
    if pid.parse::<u64>().ok() != Some(PID) {
        return Err(ENOENT);
    }
    let text = match file {
        "maps" => maps(l, p),
        "status" => status(l, p),
        "exe" => return fs::lookup(&l.exe).ok_or(ENOENT),
        _ => return Err(ENOENT),
    };
    Node::snapshot(text).map(Arc::new).ok_or(ENOMEM)
}

/// One line per VMA: `start-end perms offset dev inode`, then the name at column 73
/// (`[heap]`, `[stack]`, `[mpx]` for bounds tables, the file's path).
fn maps(_l: &Linux, p: &Process) -> String {
    let mm = p.mm.read();
    let mut text = String::new();
    for vma in mm.vmas().iter() {
        let bit = |flag: Prot, c: char| if vma.prot.contains(flag) { c } else { '-' };
        let (offset, device, inode, name): (u64, &str, u64, Option<&str>) = match &vma.name {
            _ if vma.vma.is_bounds_table() => (0, "00:00", 0, Some("[mpx]")),
            VmaName::File(path, offset) => (*offset, "00:01", 1, Some(path)),
            VmaName::Heap => (0, "00:00", 0, Some("[heap]")),
            VmaName::Stack => (0, "00:00", 0, Some("[stack]")),
            VmaName::None => (0, "00:00", 0, None),
        };
        let start = text.len();
        let _ = write!(
            text,
            "{:08x}-{:08x} {}{}{}p {:08x} {} {} ",
            vma.vma.start,
            vma.vma.end,
            bit(Prot::READ, 'r'),
            bit(Prot::WRITE, 'w'),
            bit(Prot::EXEC, 'x'),
            offset,
            device,
            inode
        );
        if let Some(name) = name {
            while text.len() - start < 73 {
                text.push(' ');
            }
            text.push_str(name);
        }
        text.push('\n');
    }
    text
}

fn status(l: &Linux, p: &Process) -> String {
    let mm = p.mm.read();
    let size: u64 = mm.vmas().iter().map(|v| v.vma.end - v.vma.start).sum();
    let rss: u64 = mm
        .vmas()
        .iter()
        .map(|v| mm.resident_bytes(v.vma.start, v.vma.end))
        .sum();
    let raw = *l.name.lock();
    let len = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    let name = core::str::from_utf8(&raw[..len]).unwrap_or("?");
    let umask = l.umask.load(core::sync::atomic::Ordering::Relaxed);
    let mut text = String::new();
    let _ = write!(
        text,
        "Name:\t{name}\nUmask:\t{umask:04o}\nState:\tR (running)\nTgid:\t{PID}\nPid:\t{PID}\nPPid:\t0\n\
         Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nVmSize:\t{:8} kB\nVmRSS:\t{:8} kB\n\
         VmPTE:\t{:8} kB\nThreads:\t1\n",
        size / 1024,
        rss / 1024,
        // The page tables, root included.
        (mm.page_table_frames() + 1) * 4
    );
    text
}
