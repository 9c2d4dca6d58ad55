//! Processes: the process and which one runs, running one to completion, and the
//! handlers for its traps.
//!
//! One process runs at a time, to completion (the kernel is single-CPU); everything
//! a trap handler reaches is shared-only, so the same code would be sound with more.

pub mod process;
pub mod run;
pub mod traps;
pub mod uaccess;
