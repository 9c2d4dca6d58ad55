//! What a name in the file system is, and how it reads and writes.
//!
//! Files live on the kernel heap (8 MiB, shared with everything else the kernel
//! allocates), so what programs may put there is budgeted: the capacity of every
//! file's own bytes and of every `/proc` snapshot together stays under
//! [`FILE_BYTES_MAX`]; past it a write is `-ENOSPC` and a snapshot `-ENOMEM`, and the
//! kernel's own allocations never run dry because of a program's files.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use spin::Mutex;

/// Heap bytes all files' contents and `/proc` snapshots may hold together.
pub const FILE_BYTES_MAX: usize = 3 << 20;

/// Heap bytes charged to files and snapshots now.
static FILE_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Charges `n` bytes to the budget, or refuses without charging.
pub(super) fn charge(n: usize) -> Result<(), NodeError> {
    FILE_BYTES
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
            used.checked_add(n).filter(|&total| total <= FILE_BYTES_MAX)
        })
        .map(|_| ())
        .map_err(|_| NodeError::NoSpace)
}

pub(super) fn refund(n: usize) {
    FILE_BYTES.fetch_sub(n, Ordering::AcqRel);
}

/// Heap bytes files and snapshots hold now (what the budget counts).
pub fn file_bytes() -> usize {
    FILE_BYTES.load(Ordering::Acquire)
}

/// A vector of exactly `len` zeros, charged to the budget first.
fn charged_zeros(len: usize) -> Result<Vec<u8>, NodeError> {
    charge(len)?;
    let mut bytes = Vec::new();
    if bytes.try_reserve_exact(len).is_err() {
        refund(len);
        return Err(NodeError::NoSpace);
    }
    bytes.resize(len, 0);
    if bytes.capacity() != len {
        // (The allocator gave more: charge that too, or give it back.)
        let extra = bytes.capacity() - len;
        if charge(extra).is_err() {
            bytes.shrink_to_fit();
        }
        if bytes.capacity() != len + extra {
            refund(len + extra - bytes.capacity());
        }
    }
    Ok(bytes)
}

/// The bytes of a regular file.
#[derive(Debug)]
pub enum Content {
    /// What the boot loader loaded (a multiboot module), in place, until written.
    Boot(&'static [u8]),
    /// A copy of its own (written to, or created by a program).
    Owned(Vec<u8>),
}

impl Content {
    fn bytes(&self) -> &[u8] {
        match self {
            Content::Boot(bytes) => bytes,
            Content::Owned(bytes) => bytes,
        }
    }

    /// Its bytes as a vector of its own (a boot module is copied on the first write),
    /// with room for `len` bytes; the growth is charged to the budget.
    fn owned_with(&mut self, len: usize) -> Result<&mut Vec<u8>, NodeError> {
        if let Content::Boot(bytes) = *self {
            let mut copy = charged_zeros(bytes.len())?;
            copy.copy_from_slice(bytes);
            *self = Content::Owned(copy);
        }
        let Content::Owned(bytes) = self else {
            return Err(NodeError::NoSpace);
        };
        if len > bytes.capacity() {
            // Doubling, charged before it is allocated.
            let capacity = bytes.capacity();
            let target = len.max(capacity.saturating_mul(2)).max(64);
            charge(target - capacity)?;
            if bytes.try_reserve_exact(target - bytes.len()).is_err() {
                refund(target - capacity);
                return Err(NodeError::NoSpace);
            }
            let got = bytes.capacity();
            match got.cmp(&target) {
                core::cmp::Ordering::Less => refund(target - got),
                core::cmp::Ordering::Greater => {
                    if charge(got - target).is_err() {
                        bytes.shrink_to(target);
                    }
                }
                core::cmp::Ordering::Equal => {}
            }
        }
        Ok(bytes)
    }
}

impl Drop for Content {
    fn drop(&mut self) {
        if let Content::Owned(bytes) = self {
            refund(bytes.capacity());
        }
    }
}

/// A file-system object.
#[derive(Debug)]
pub enum Node {
    /// A regular file.
    File(Mutex<Content>),
    /// `/dev/null`: reads end at once, writes vanish.
    Null,
    /// `/dev/zero`: reads give zeros, writes vanish.
    Zero,
    /// `/dev/urandom`: reads give random bytes, writes vanish.
    Random,
    /// The serial console: reads end at once, writes go out byte for byte.
    Console,
    /// A write-only sink that accepts every write whole (the tracing files); reads
    /// give nothing.
    Sink,
    /// A generated file (`/proc`): its text as it was when opened (built with
    /// [`Node::snapshot`], which charges it to the budget).
    Snapshot(Snapshot),
    /// The root directory, `/` (the only one: names are flat).
    Directory,
}

/// The text of a generated file, charged to the file budget while it lives.
#[derive(Debug)]
pub struct Snapshot(Vec<u8>);

impl Drop for Snapshot {
    fn drop(&mut self) {
        refund(self.0.capacity());
    }
}

/// What `fstat` says a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// `S_IFREG`.
    Regular,
    /// `S_IFCHR`.
    CharDevice,
    /// `S_IFDIR`.
    Directory,
}

/// Why a node refused an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeError {
    /// Not writable (a `/proc` snapshot).
    ReadOnly,
    /// The file budget ([`FILE_BYTES_MAX`]) is spent, or the offset is beyond it.
    NoSpace,
    /// Not a regular file.
    NotRegular,
    /// A directory.
    IsDirectory,
}

impl Node {
    /// A regular file with `content`.
    pub fn file(content: Content) -> Node {
        Node::File(Mutex::new(content))
    }

    /// A generated file holding `text`, charged to the budget (`None` when it is
    /// spent).
    pub fn snapshot(text: alloc::string::String) -> Option<Node> {
        let mut bytes = text.into_bytes();
        bytes.shrink_to_fit();
        charge(bytes.capacity()).ok()?;
        Some(Node::Snapshot(Snapshot(bytes)))
    }

    /// What `fstat` reports.
    pub fn kind(&self) -> NodeKind {
        match self {
            Node::File(_) | Node::Snapshot(_) => NodeKind::Regular,
            Node::Directory => NodeKind::Directory,
            _ => NodeKind::CharDevice,
        }
    }

    /// A device's number, `(major << 8) | minor` as `st_rdev` packs it for small
    /// numbers (Linux's: mem devices are major 1, ttys 4 and 5); 0 otherwise.
    pub fn device_number(&self) -> u64 {
        let (major, minor) = match self {
            Node::Null => (1, 3),
            Node::Zero => (1, 5),
            Node::Random => (1, 9),
            Node::Console => (5, 1),
            _ => (0, 0),
        };
        (major << 8) | minor
    }

    /// Bytes in the node (0 for devices).
    pub fn size(&self) -> u64 {
        match self {
            Node::File(content) => content.lock().bytes().len() as u64,
            Node::Snapshot(text) => text.0.len() as u64,
            _ => 0,
        }
    }

    /// Whether reads and writes have a position (regular files do, devices not).
    pub fn seekable(&self) -> bool {
        self.kind() == NodeKind::Regular
    }

    /// Whether it is a stream, without even a nominal position: the console
    /// (`pread`, `pwrite` and `lseek` are `-ESPIPE`, as on a Linux tty).
    pub fn is_stream(&self) -> bool {
        matches!(self, Node::Console)
    }

    /// Reads at `offset` into `buf`; returns the bytes read (0 at the end).
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> usize {
        match self {
            Node::File(content) => copy_at(content.lock().bytes(), offset, buf),
            Node::Snapshot(text) => copy_at(&text.0, offset, buf),
            Node::Zero => {
                buf.fill(0);
                buf.len()
            }
            Node::Random => {
                crate::arch::random::fill(buf);
                buf.len()
            }
            Node::Null | Node::Console | Node::Sink | Node::Directory => 0,
        }
    }

    /// Writes `data` at `offset` (or at the end, if `append`); returns the bytes
    /// written and the new end of the write.
    pub fn write_at(&self, offset: u64, data: &[u8], append: bool) -> Result<u64, NodeError> {
        match self {
            Node::File(content) => {
                let mut content = content.lock();
                let len = content.bytes().len();
                let start = if append {
                    len
                } else {
                    usize::try_from(offset).map_err(|_| NodeError::NoSpace)?
                };
                let end = start.checked_add(data.len()).ok_or(NodeError::NoSpace)?;
                if end > FILE_BYTES_MAX {
                    return Err(NodeError::NoSpace);
                }
                let bytes = content.owned_with(end)?;
                if end > bytes.len() {
                    bytes.resize(end, 0);
                }
                bytes[start..end].copy_from_slice(data);
                Ok(end as u64)
            }
            Node::Console => {
                crate::arch::serial::write_raw(data);
                Ok(offset + data.len() as u64)
            }
            Node::Null | Node::Zero | Node::Random | Node::Sink => Ok(offset + data.len() as u64),
            Node::Snapshot(_) => Err(NodeError::ReadOnly),
            Node::Directory => Err(NodeError::IsDirectory),
        }
    }

    /// Empties a regular file (`O_TRUNC`).
    pub fn truncate(&self) {
        if let Node::File(content) = self {
            *content.lock() = Content::Owned(Vec::new());
        }
    }

    /// Sets a regular file's length (`ftruncate`): cut, or extended with zeros.
    pub fn set_len(&self, len: u64) -> Result<(), NodeError> {
        let Node::File(content) = self else {
            return Err(NodeError::NotRegular);
        };
        let len = usize::try_from(len)
            .ok()
            .filter(|&n| n <= FILE_BYTES_MAX)
            .ok_or(NodeError::NoSpace)?;
        let mut content = content.lock();
        if len == 0 {
            *content = Content::Owned(Vec::new());
            return Ok(());
        }
        let bytes = content.owned_with(len)?;
        bytes.resize(len, 0);
        Ok(())
    }

    /// Runs `f` on the bytes of a regular file (loading a program).
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        match self {
            Node::File(content) => Some(f(content.lock().bytes())),
            _ => None,
        }
    }
}

/// Copies what `bytes` holds from `offset` on into `buf`; returns how much.
fn copy_at(bytes: &[u8], offset: u64, buf: &mut [u8]) -> usize {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    let n = buf.len().min(bytes.len() - start);
    buf[..n].copy_from_slice(&bytes[start..start + n]);
    n
}
