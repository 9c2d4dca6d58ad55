//! Kernel-managed Intel MPX bounds tables for Rust kernels.
#![cfg_attr(not(any(test, feature = "sim")), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, missing_debug_implementations)]

pub mod arch;
pub mod lock;
pub mod mm;
pub mod violation;
pub mod manager;
