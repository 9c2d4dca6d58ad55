//! Memory: physical frames, the kernel heap, page tables, a process's address space
//! and the kernel's access to user memory.
//!
//! Above `arch` and below everything that runs processes; nothing here knows the
//! `mpx` crate's manager (its traits are implemented in `mpx_glue`).

pub mod boot_info;
pub mod frames;
pub mod heap;
pub mod layout;
pub mod paging;
pub mod space;
pub mod user;
pub mod vma;
