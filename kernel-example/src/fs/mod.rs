//! An in-memory file system for Linux processes: the files the boot loader brought
//! (multiboot modules: the program and `--file`s), files programs create, devices
//! (`/dev/null`, `/dev/zero`, `/dev/urandom`, the console), the tracing files Linux's
//! MPX selftest writes, and `/proc` files, which the ABI generates when opened.
//!
//! Paths are absolute and flat (`/name`, `/dev/null`, `/proc/self/maps`): there are
//! no directories to list, only names to look up.

pub mod node;

pub use node::{Content, Node};

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use spin::Mutex;

/// The tracing files of Linux's debugfs that MPX programs open at start-up.
pub const TRACE: &str = "/sys/kernel/debug/tracing/trace";
/// See [`TRACE`].
pub const SET_FTRACE_PID: &str = "/sys/kernel/debug/tracing/set_ftrace_pid";

/// The file system: names to nodes.
static FILES: Mutex<BTreeMap<String, Arc<Node>>> = Mutex::new(BTreeMap::new());

/// Fills the file system with the devices, the tracing sinks, and `files` (guest
/// path, contents).
pub fn init(files: impl IntoIterator<Item = (String, &'static [u8])>) {
    let mut all = FILES.lock();
    all.clear();
    for (path, node) in [
        ("/dev/null", Node::Null),
        ("/dev/zero", Node::Zero),
        ("/dev/urandom", Node::Random),
        ("/dev/random", Node::Random),
        ("/dev/tty", Node::Console),
        ("/dev/console", Node::Console),
        (TRACE, Node::Sink),
        (SET_FTRACE_PID, Node::Sink),
    ] {
        all.insert(String::from(path), Arc::new(node));
    }
    for (path, bytes) in files {
        all.insert(path, Arc::new(Node::file(Content::Boot(bytes))));
    }
}

/// Drops every file (at the end of the run, so the kernel's heap check sees what the
/// program's files took back).
pub fn clear() {
    FILES.lock().clear();
}

/// The node at `path`.
pub fn lookup(path: &str) -> Option<Arc<Node>> {
    FILES.lock().get(path).cloned()
}

/// The regular file at `path`, created empty if there is none (`O_CREAT`). `None` if
/// the path is not a plain name under `/` or names something else.
pub fn create(path: &str) -> Option<Arc<Node>> {
    let valid = path.starts_with('/')
        && path.len() > 1
        && !path.ends_with('/')
        && !path.starts_with("/proc/")
        && !path.starts_with("/dev/");
    if !valid {
        return None;
    }
    let mut all = FILES.lock();
    let node = all
        .entry(String::from(path))
        .or_insert_with(|| Arc::new(Node::file(Content::Owned(alloc::vec::Vec::new()))));
    Some(node.clone())
}

/// Removes the file at `path` (`unlink`); whether it was there.
pub fn remove(path: &str) -> bool {
    FILES.lock().remove(path).is_some()
}
