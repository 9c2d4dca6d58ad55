//! The kernel's access to a process's user memory, with "page faults disabled": a
//! page that is not present (or not writable, for a write) is reported, never faulted
//! on. User pages are reached through the physical map after a page-table walk made
//! under the process's page-table lock, which also keeps the page from being
//! unmapped (and its frame reused) while it is accessed.

use super::layout::{phys_to_virt, PAGE, USER_END};
use super::paging::PageTables;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use spin::Mutex;
use x86_64::structures::paging::PageTableFlags;

/// One process's user memory, as the kernel reaches it.
#[derive(Clone, Debug)]
pub struct UserMemory {
    tables: Arc<Mutex<PageTables>>,
}

impl UserMemory {
    pub(super) fn new(tables: Arc<Mutex<PageTables>>) -> UserMemory {
        UserMemory { tables }
    }

    /// Copies as many of `dst.len()` bytes from `va` as are readable (one bounded
    /// copy, a page at a time); returns how many.
    pub fn copy_prefix(&self, va: u64, dst: &mut [u8]) -> usize {
        self.tables.lock().copy_prefix(va, dst)
    }

    /// Copies as much of `src` to `va` as is present and writable (one bounded copy,
    /// a page at a time); returns how many bytes.
    pub fn copy_to_prefix(&self, va: u64, src: &[u8]) -> usize {
        self.tables.lock().copy_to_prefix(va, src)
    }

    /// Runs `access` on the physical-map address of the `bytes`-wide, aligned user
    /// location `address`, with the page-table lock held; `Err(address)` if it is not
    /// present (or not writable, for `write`).
    fn with_location<R>(
        &self,
        address: u64,
        bytes: u64,
        write: bool,
        access: impl FnOnce(*mut u8) -> R,
    ) -> Result<R, u64> {
        if address >= USER_END || !address.is_multiple_of(bytes) {
            return Err(address);
        }
        let tables = self.tables.lock();
        let (phys, flags) = tables.translate(address).ok_or(address)?;
        if !flags.contains(PageTableFlags::USER_ACCESSIBLE)
            || (write && !flags.contains(PageTableFlags::WRITABLE))
        {
            return Err(address);
        }
        Ok(access(phys_to_virt(phys).as_mut_ptr()))
    }

    /// An atomic load of 4 or 8 bytes (zero-extended); `Err(address)` if not present.
    pub fn atomic_load(&self, address: u64, bytes: u64) -> Result<u64, u64> {
        self.with_location(address, bytes, false, |ptr| {
            // SAFETY: `ptr` is the physical-map alias of a present user page, aligned
            // to the width (checked), kept mapped by the page-table lock; the atomic
            // access matches what the CPU and user threads do with the location.
            unsafe {
                if bytes == 4 {
                    u64::from((*ptr.cast::<AtomicU32>()).load(Ordering::SeqCst))
                } else {
                    (*ptr.cast::<AtomicU64>()).load(Ordering::SeqCst)
                }
            }
        })
    }

    /// Atomic loads of `out.len()` consecutive 4- or 8-byte locations from `address`,
    /// all within one page, with one page-table walk for the group (each location
    /// read atomically); `Err(address)` if the page is not present or the group
    /// leaves it.
    pub fn atomic_load_many(&self, address: u64, bytes: u64, out: &mut [u64]) -> Result<(), u64> {
        let len = (out.len() as u64).checked_mul(bytes).ok_or(address)?;
        if address % PAGE + len > PAGE {
            return Err(address);
        }
        self.with_location(address, bytes, false, |ptr| {
            for (i, slot) in out.iter_mut().enumerate() {
                // SAFETY: as in `atomic_load`: every location lies on the same present
                // page (checked above), aligned to the width like `address`.
                unsafe {
                    let at = ptr.add(i * bytes as usize);
                    *slot = if bytes == 4 {
                        u64::from((*at.cast::<AtomicU32>()).load(Ordering::SeqCst))
                    } else {
                        (*at.cast::<AtomicU64>()).load(Ordering::SeqCst)
                    };
                }
            }
        })
    }

    /// An atomic compare-exchange of 4 or 8 bytes: `Ok(Ok(current))` if it held
    /// `current` (now `new`), `Ok(Err(actual))` otherwise; `Err(address)` if the page
    /// is not present and writable.
    pub fn atomic_compare_exchange(
        &self,
        address: u64,
        bytes: u64,
        current: u64,
        new: u64,
    ) -> Result<Result<u64, u64>, u64> {
        self.with_location(address, bytes, true, |ptr| {
            // SAFETY: as in `atomic_load`, for a present writable user page.
            unsafe {
                if bytes == 4 {
                    (*ptr.cast::<AtomicU32>())
                        .compare_exchange(
                            current as u32,
                            new as u32,
                            Ordering::SeqCst,
                            Ordering::SeqCst,
                        )
                        .map(u64::from)
                        .map_err(u64::from)
                } else {
                    (*ptr.cast::<AtomicU64>()).compare_exchange(
                        current,
                        new,
                        Ordering::SeqCst,
                        Ordering::SeqCst,
                    )
                }
            }
        })
    }
}
