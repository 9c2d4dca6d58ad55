//! File descriptors of a Linux process: open files (a node, an offset, the access
//! mode and status flags) shared by `dup`s, and the close-on-exec bit per
//! descriptor.

use super::errno::*;
use crate::fs::Node;
use alloc::sync::Arc;
use alloc::vec::Vec;
use spin::Mutex;

/// Descriptors a process may hold (`RLIMIT_NOFILE`).
pub const MAX_FDS: usize = 1024;

/// An open file description.
#[derive(Debug)]
pub struct OpenFile {
    /// What it reads and writes.
    pub node: Arc<Node>,
    /// The path it was opened by (for the names of its mappings), if any.
    pub path: Option<Arc<str>>,
    /// Whether it was opened for reading.
    pub readable: bool,
    /// Whether it was opened for writing.
    pub writable: bool,
    /// `O_APPEND`, `O_NONBLOCK`...: what `F_GETFL` reports beside the access mode.
    pub status_flags: Mutex<u64>,
    /// The file position.
    pub offset: Mutex<u64>,
}

impl OpenFile {
    /// A description of `node` opened with `flags` (`O_*`).
    pub fn new(node: Arc<Node>, path: Option<Arc<str>>, flags: u64) -> OpenFile {
        let mode = flags & O_ACCMODE;
        OpenFile {
            node,
            path,
            readable: mode != O_WRONLY,
            writable: mode == O_WRONLY || mode == O_RDWR,
            status_flags: Mutex::new(flags & !(O_ACCMODE | O_CLOEXEC | O_CREAT | O_EXCL | O_TRUNC)),
            offset: Mutex::new(0),
        }
    }

    /// `F_GETFL`: access mode and status flags.
    pub fn flags(&self) -> u64 {
        let mode = match (self.readable, self.writable) {
            (true, true) => O_RDWR,
            (false, true) => O_WRONLY,
            _ => 0,
        };
        // Every file is opened large on 64-bit Linux (`force_o_largefile`).
        mode | O_LARGEFILE | *self.status_flags.lock()
    }
}

#[derive(Debug, Clone)]
struct Slot {
    file: Arc<OpenFile>,
    cloexec: bool,
}

/// The descriptor table.
#[derive(Debug)]
pub struct FdTable {
    slots: Vec<Option<Slot>>,
    /// Descriptors below this may be opened (`RLIMIT_NOFILE`, at most [`MAX_FDS`]).
    limit: usize,
}

impl Default for FdTable {
    fn default() -> FdTable {
        FdTable {
            slots: Vec::new(),
            limit: MAX_FDS,
        }
    }
}

impl FdTable {
    /// A table with 0 (stdin), 1 (stdout) and 2 (stderr) on the console.
    pub fn with_console() -> FdTable {
        let console = Arc::new(Node::Console);
        let mut table = FdTable::default();
        table.install_at(0, Arc::new(OpenFile::new(console.clone(), None, 0)), false);
        for fd in [1, 2] {
            table.install_at(
                fd,
                Arc::new(OpenFile::new(console.clone(), None, O_WRONLY)),
                false,
            );
        }
        table
    }

    /// The open file behind `fd`, or `EBADF`.
    pub fn get(&self, fd: u64) -> Result<Arc<OpenFile>, i64> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get(i))
            .and_then(|s| s.as_ref())
            .map(|s| s.file.clone())
            .ok_or(EBADF)
    }

    /// Whether a descriptor is free (`open` checks before it creates anything).
    pub fn has_free(&self) -> bool {
        (0..self.limit).any(|i| self.slots.get(i).is_none_or(|s| s.is_none()))
    }

    /// The descriptor limit: new descriptors stay below it (those open stay open).
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Sets the descriptor limit (`RLIMIT_NOFILE`), at most [`MAX_FDS`].
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.min(MAX_FDS);
    }

    /// Installs `file` at the lowest free descriptor at or above `from`; `EMFILE` if
    /// none is left.
    pub fn install(&mut self, file: Arc<OpenFile>, from: usize, cloexec: bool) -> Result<u64, i64> {
        let fd = (from..self.limit)
            .find(|&i| self.slots.get(i).is_none_or(|s| s.is_none()))
            .ok_or(EMFILE)?;
        self.install_at(fd, file, cloexec);
        Ok(fd as u64)
    }

    /// Installs `file` at `fd`, closing what was there (`dup2`).
    pub fn install_at(&mut self, fd: usize, file: Arc<OpenFile>, cloexec: bool) {
        if self.slots.len() <= fd {
            self.slots.resize(fd + 1, None);
        }
        self.slots[fd] = Some(Slot { file, cloexec });
    }

    /// Closes `fd`; `EBADF` if it was not open.
    pub fn close(&mut self, fd: u64) -> Result<(), i64> {
        let slot = usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
            .ok_or(EBADF)?;
        slot.take().map(|_| ()).ok_or(EBADF)
    }

    /// The close-on-exec bit of `fd`.
    pub fn cloexec(&self, fd: u64) -> Result<bool, i64> {
        self.get(fd)?;
        Ok(self.slots[fd as usize].as_ref().is_some_and(|s| s.cloexec))
    }

    /// Sets the close-on-exec bit of `fd`.
    pub fn set_cloexec(&mut self, fd: u64, on: bool) -> Result<(), i64> {
        self.get(fd)?;
        if let Some(slot) = self.slots[fd as usize].as_mut() {
            slot.cloexec = on;
        }
        Ok(())
    }
}
