//! Process ABIs: how user programs talk to the kernel.
//!
//! [`native`] is the small ABI of the scenario programs.

pub mod native;
