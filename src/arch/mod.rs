//! Facts about the CPU: geometry, registers, entries and XSAVE layout.

/// The kind of process whose bounds tables are managed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// A 64-bit process: 2 GiB directory of 8-byte entries, 4 MiB tables.
    Long64,
    /// A 32-bit process: 4 MiB directory of 4-byte entries, 16 KiB tables.
    Compat32,
}
