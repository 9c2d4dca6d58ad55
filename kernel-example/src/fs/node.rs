//! What a name in the file system is, and how it reads and writes.

use alloc::vec::Vec;
use spin::Mutex;

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

    fn owned(&mut self) -> &mut Vec<u8> {
        if let Content::Boot(bytes) = *self {
            *self = Content::Owned(bytes.to_vec());
        }
        match self {
            Content::Owned(bytes) => bytes,
            Content::Boot(_) => unreachable!("made owned above"),
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
    /// A generated file (`/proc`): its text as it was when opened.
    Snapshot(Vec<u8>),
}

/// What `fstat` says a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// `S_IFREG`.
    Regular,
    /// `S_IFCHR`.
    CharDevice,
}

/// Why a node refused an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeError {
    /// Not writable (a `/proc` snapshot).
    ReadOnly,
    /// No memory for the file's bytes.
    NoMemory,
}

impl Node {
    /// A regular file with `content`.
    pub fn file(content: Content) -> Node {
        Node::File(Mutex::new(content))
    }

    /// What `fstat` reports.
    pub fn kind(&self) -> NodeKind {
        match self {
            Node::File(_) | Node::Snapshot(_) => NodeKind::Regular,
            _ => NodeKind::CharDevice,
        }
    }

    /// Bytes in the node (0 for devices).
    pub fn size(&self) -> u64 {
        match self {
            Node::File(content) => content.lock().bytes().len() as u64,
            Node::Snapshot(text) => text.len() as u64,
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
            Node::Snapshot(text) => copy_at(text, offset, buf),
            Node::Zero => {
                buf.fill(0);
                buf.len()
            }
            Node::Random => {
                crate::arch::random::fill(buf);
                buf.len()
            }
            Node::Null | Node::Console | Node::Sink => 0,
        }
    }

    /// Writes `data` at `offset` (or at the end, if `append`); returns the bytes
    /// written and the new end of the write.
    pub fn write_at(&self, offset: u64, data: &[u8], append: bool) -> Result<u64, NodeError> {
        match self {
            Node::File(content) => {
                let mut content = content.lock();
                let bytes = content.owned();
                let start = if append {
                    bytes.len()
                } else {
                    usize::try_from(offset).map_err(|_| NodeError::NoMemory)?
                };
                let end = start.checked_add(data.len()).ok_or(NodeError::NoMemory)?;
                if end > bytes.len() {
                    bytes
                        .try_reserve(end - bytes.len())
                        .map_err(|_| NodeError::NoMemory)?;
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
        }
    }

    /// Empties a regular file (`O_TRUNC`).
    pub fn truncate(&self) {
        if let Node::File(content) = self {
            *content.lock() = Content::Owned(Vec::new());
        }
    }

    /// A copy of `len` bytes from `offset` (zeros past the end): what a private
    /// file mapping starts with.
    pub fn copy_range(&self, offset: u64, len: usize) -> Vec<u8> {
        let mut out = alloc::vec![0u8; len];
        self.read_at(offset, &mut out);
        out
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
