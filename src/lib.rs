//! Kernel-managed Intel MPX bounds tables for Rust kernels.
//!
//! Intel MPX keeps the bounds of pointers stored in memory in a bounds
//! directory (BD) in user memory whose entries point at bounds tables (BTs):
//! 4 MiB per MiB of address space in a 64-bit process. This crate lets a
//! kernel allocate a table when the CPU raises #BR for an empty directory
//! entry, report real bound violations, and free tables (or the pages of
//! them that described unmapped memory) from munmap, as Linux did from 3.19
//! to 5.5, without ever unmapping memory a hostile directory points at.
//!
//! - [`arch`]: the architecture as data: geometry for 64- and 32-bit
//!   processes, directory and table entries, BNDCFGx / BNDSTATUS, XSAVE.
//! - [`mm`]: the traits a kernel implements: [`mm::AddressSpace`] (VMAs and
//!   page tables) and [`mm::UserAccess`] (directory entries with page faults
//!   disabled).
//! - [`lock`]: the mm lock ([`lock::MmLock`], Linux's `mmap_sem`), whose
//!   guards make the locking rules part of every signature.
//! - [`manager`]: [`manager::MpxManager`], one per process: enable and
//!   disable management, the #BR entry points, the unmap hook, statistics.
//! - [`violation`]: the BNDCL/BNDCU/BNDCN decoder and
//!   [`violation::ViolationReport`].
//! - `sim` (feature `sim`): a simulated MPX process implementing the same
//!   traits, so all of this runs in `cargo test` on machines without MPX.
//!
//! The crate is `no_std` and allocation-free; only the simulator uses `std`.
#![cfg_attr(not(any(test, feature = "sim")), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, missing_debug_implementations)]

pub mod arch;
pub mod lock;
pub mod manager;
pub mod mm;
#[cfg(any(test, feature = "sim"))]
pub mod sim;
pub mod violation;
