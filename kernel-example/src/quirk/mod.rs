//! Boot probes: how this CPU (or emulator) really executes the MPX instructions the
//! kernel and its programs rely on, measured before any process runs.
//!
//! Three emulator bugs are known (README, "QEMU MPX bugs"), and each has a probe:
//! - **A**, bounds-directory base: QEMU computes the 64-bit base as
//!   `(BNDCFGx >> 20) << 12` instead of bits 63:12 (SDM). The probe runs one `BNDSTX`
//!   into an empty directory and reads the entry address back from BNDSTATUS; the
//!   kernel then encodes BNDCFGU so that the *effective* base is the one wanted
//!   ([`encode_bndcfg`]), and the crate is always handed the effective base.
//! - **B**, instruction length: QEMU 7.2 decodes the SIB byte (and displacement) of
//!   `BNDSTX`/`BNDLDX` twice and skips that many bytes after them. The ring-3
//!   programs follow every SIB-form `BNDSTX`/`BNDLDX` with one `nop`: skipped there,
//!   executed elsewhere; so the probe must find at most one byte skipped.
//! - **C**, register operands: QEMU 10 checks `2·RAX` in register-form
//!   `BNDCL`/`BNDCU`/`BNDCN`, whatever register the instruction names. The programs
//!   use memory forms (`bndcu bnd0, [rcx]`), which the probe must find correct.
//!
//! Every probe also runs in compatibility mode (ring 0, a 32-bit code segment), for
//! 32-bit processes: there the directory base comes from BNDCFGx bits 31:12 and the
//! tables have 16-byte entries. The probes run in a scratch address space through
//! [`harness`]; whatever a CPU does, a probe reports it and the boot goes on.

mod case;
mod decoding;
mod emit;
mod findings;
pub mod harness;
mod probes;

pub use case::CpuMode;
pub use decoding::{effective_base, encode_bndcfg};
pub use probes::{decoding, probe};
