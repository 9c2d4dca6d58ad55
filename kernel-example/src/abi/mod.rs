//! Process ABIs: how user programs talk to the kernel.
//!
//! [`native`] is the small ABI of the scenario programs; [`linux`] is Linux's x86-64
//! process ABI, for unmodified static programs.

pub mod linux;
pub mod native;
