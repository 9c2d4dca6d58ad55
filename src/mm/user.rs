//! Accessing bounds-directory entries in user memory with page faults disabled.

/// Width of a directory entry: 8 bytes in 64-bit processes, 4 in 32-bit ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryWidth {
    /// 4-byte entries (32-bit process).
    Four,
    /// 8-byte entries (64-bit process).
    Eight,
}

impl EntryWidth {
    /// Size in bytes.
    pub const fn bytes(self) -> u64 {
        match self {
            EntryWidth::Four => 4,
            EntryWidth::Eight => 8,
        }
    }
}

/// A user access hit a page that is not present (or not writable), or an
/// address that is not user memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessFault {
    /// The address that faulted.
    pub address: u64,
}

/// Reads and updates directory entries in the current process's user memory.
///
/// # Contract
/// - Page faults are disabled during each access: a page that is not present
///   (or, for a write, not writable) gives `Err(AccessFault)` at once; the
///   access never enters the page-fault path and never takes the mm lock.
///   The manager then resolves the fault with
///   [`AddressSpace::fault_in`](super::AddressSpace::fault_in) and retries.
/// - An address outside user memory gives `Err(AccessFault)`; the kernel's
///   own memory is never touched, whatever address the manager passes.
/// - `address` is aligned to `width`; the access is a single atomic
///   operation of that width (the CPU walks the directory concurrently).
pub trait UserAccess {
    /// Loads the entry of `width` bytes at `address` (zero-extended).
    fn read_entry(&self, address: u64, width: EntryWidth) -> Result<u64, AccessFault>;

    /// Atomically replaces the entry at `address` with `new` if it equals
    /// `current`. Returns `Ok(Ok(current))` on success, `Ok(Err(actual))` if
    /// the entry held `actual` instead.
    fn compare_exchange_entry(
        &self,
        address: u64,
        width: EntryWidth,
        current: u64,
        new: u64,
    ) -> Result<Result<u64, u64>, AccessFault>;
}
