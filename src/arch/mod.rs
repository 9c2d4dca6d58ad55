//! Facts about the CPU: geometry, registers, directory entries and XSAVE layout.
//!
//! Everything here is pure data and compiles on any host; the few instruction
//! helpers sit behind `cfg(target_arch = "x86_64")`.

pub mod entry;
pub mod layout;
pub mod registers;
pub mod xsave;

pub use entry::{BoundsTableEntry, DirectoryEntry};
pub use layout::{EntryWidth, Geometry, Mode};
pub use registers::{BndStatus, Bndcfg, BndcfgFlags, BrCause};
