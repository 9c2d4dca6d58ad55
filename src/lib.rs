//! Kernel-managed Intel MPX bounds tables for Rust kernels.
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
