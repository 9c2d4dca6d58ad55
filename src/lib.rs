#![doc = include_str!("../README.md")]
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, missing_debug_implementations)]

// The simulator (and the unit tests) use `std`; nothing else can: the crate
// keeps `core`'s prelude with every feature, and `std` is reached only by
// explicit `std::` paths, which only `sim` and the tests write.
#[cfg(any(test, feature = "sim"))]
extern crate std;

pub mod arch;
pub mod lock;
pub mod manager;
pub mod mm;
#[cfg(any(test, feature = "sim"))]
pub mod sim;
mod sync;
pub mod trace;
pub mod violation;
