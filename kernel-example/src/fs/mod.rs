//! An in-memory file system for Linux processes: the files the boot loader brought
//! (multiboot modules: the program and `--file`s), files programs create, devices
//! (`/dev/null`, `/dev/zero`, `/dev/urandom`, the console), the tracing files Linux's
//! MPX selftest writes, and `/proc` files, which the ABI generates when opened.
//!
//! Paths are absolute and flat (`/name`, `/dev/null`, `/proc/self/maps`): there are
//! no directories to list, only names to look up.

pub mod node;

pub use node::{file_bytes, Content, Node};

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use spin::Mutex;

/// The tracing files of Linux's debugfs that MPX programs open at start-up.
pub const TRACE: &str = "/sys/kernel/debug/tracing/trace";
/// See [`TRACE`].
pub const SET_FTRACE_PID: &str = "/sys/kernel/debug/tracing/set_ftrace_pid";

/// A name's entry: its node, and whether a program created it (then the entry itself
/// is charged to the file budget, see [`node::FILE_BYTES_MAX`]).
struct Entry {
    node: Arc<Node>,
    charged: usize,
}

impl Drop for Entry {
    fn drop(&mut self) {
        node::refund(self.charged);
    }
}

/// What an entry a program creates costs the budget besides its name.
const ENTRY_COST: usize = 128;

/// The file system: names to nodes.
static FILES: Mutex<BTreeMap<Arc<str>, Entry>> = Mutex::new(BTreeMap::new());

/// Fills the file system with the devices, the tracing sinks, and `files` (guest
/// path, contents).
pub fn init(files: impl IntoIterator<Item = (String, &'static [u8])>) {
    let mut all = FILES.lock();
    all.clear();
    let fixed = |node| Entry {
        node: Arc::new(node),
        charged: 0,
    };
    for (path, node) in [
        ("/", Node::Directory),
        ("/dev/null", Node::Null),
        ("/dev/zero", Node::Zero),
        ("/dev/urandom", Node::Random),
        ("/dev/random", Node::Random),
        ("/dev/tty", Node::Console),
        ("/dev/console", Node::Console),
        (TRACE, Node::Sink),
        (SET_FTRACE_PID, Node::Sink),
    ] {
        all.insert(Arc::from(path), fixed(node));
    }
    // One CPU, as glibc's get_nprocs reads it.
    for path in [
        "/sys/devices/system/cpu/online",
        "/sys/devices/system/cpu/possible",
    ] {
        all.insert(Arc::from(path), fixed(Node::file(Content::Boot(b"0\n"))));
    }
    for (path, bytes) in files {
        all.insert(Arc::from(path), fixed(Node::file(Content::Boot(bytes))));
    }
}

/// Drops every file (at the end of the run, so the kernel's heap check sees what the
/// program's files took back).
pub fn clear() {
    FILES.lock().clear();
}

/// The node at `path`.
pub fn lookup(path: &str) -> Option<Arc<Node>> {
    FILES.lock().get(path).map(|e| e.node.clone())
}

/// The node at `path` and the name it is filed under (shared, not copied: an open
/// file keeps it for the names of its mappings).
pub fn lookup_named(path: &str) -> Option<(Arc<Node>, Arc<str>)> {
    let all = FILES.lock();
    let (name, entry) = all.get_key_value(path)?;
    Some((entry.node.clone(), name.clone()))
}

/// The names directly under `/` (no further `/`), in order, for `getdents64`.
pub fn root_names() -> alloc::vec::Vec<Arc<str>> {
    FILES
        .lock()
        .keys()
        .filter(|k| k.len() > 1 && !k[1..].contains('/'))
        .cloned()
        .collect()
}

/// Why a file could not be created or renamed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateError {
    /// Not a plain name under `/` (or one under `/proc` or `/dev`).
    BadName,
    /// The file budget is spent.
    NoSpace,
}

fn valid_name(path: &str) -> bool {
    path.starts_with('/')
        && path.len() > 1
        && !path.ends_with('/')
        && !path.starts_with("/proc/")
        && !path.starts_with("/dev/")
        && !path.starts_with("/sys/")
}

/// The regular file at `path` and its name, created empty if there is none
/// (`O_CREAT`).
pub fn create(path: &str) -> Result<(Arc<Node>, Arc<str>), CreateError> {
    let mut all = FILES.lock();
    if let Some((name, entry)) = all.get_key_value(path) {
        return Ok((entry.node.clone(), name.clone()));
    }
    if !valid_name(path) {
        return Err(CreateError::BadName);
    }
    let charged = path.len() + ENTRY_COST;
    node::charge(charged).map_err(|_| CreateError::NoSpace)?;
    let node = Arc::new(Node::file(Content::Owned(alloc::vec::Vec::new())));
    let name: Arc<str> = Arc::from(path);
    all.insert(
        name.clone(),
        Entry {
            node: node.clone(),
            charged,
        },
    );
    Ok((node, name))
}

/// Removes the file at `path` (`unlink`); whether it was there.
pub fn remove(path: &str) -> bool {
    FILES.lock().remove(path).is_some()
}

/// Renames `from` to `to` (`rename`), replacing what `to` named. `Ok(false)` if
/// `from` is not there.
pub fn rename(from: &str, to: &str) -> Result<bool, CreateError> {
    if !valid_name(to) || !valid_name(from) {
        return Err(CreateError::BadName);
    }
    let mut all = FILES.lock();
    if from == to {
        return Ok(all.contains_key(from));
    }
    let Some(mut entry) = all.remove(from) else {
        return Ok(false);
    };
    // The entry's charge follows its name's length.
    if entry.charged != 0 {
        let new = to.len() + ENTRY_COST;
        if new > entry.charged && node::charge(new - entry.charged).is_err() {
            all.insert(Arc::from(from), entry);
            return Err(CreateError::NoSpace);
        }
        node::refund(entry.charged.saturating_sub(new));
        entry.charged = new;
    }
    all.insert(Arc::from(to), entry);
    Ok(true)
}
