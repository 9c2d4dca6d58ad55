//! Copies between the kernel and a process's memory on its behalf (system calls):
//! pages not present yet are faulted in as the process's own access would, so a
//! fresh buffer works; an address no VMA allows is `Err(address)` (`-EFAULT`), never
//! a kernel fault.

use super::process::Process;
use crate::mm::layout::USER_END;
use crate::mm::space::Access;

/// Faults tried per copy beyond one per page (pages taken away meanwhile).
const EXTRA_FAULTS: usize = 8;

fn pages(va: u64, len: usize) -> usize {
    let first = va & !0xfff;
    let last = va.saturating_add(len as u64).saturating_sub(1) & !0xfff;
    ((last - first) >> 12) as usize + 1
}

fn check_range(va: u64, len: usize) -> Result<(), u64> {
    match va.checked_add(len as u64) {
        Some(end) if end <= USER_END => Ok(()),
        _ => Err(va),
    }
}

/// Copies `dst.len()` bytes from user address `va`.
pub fn copy_from_user(p: &Process, va: u64, dst: &mut [u8]) -> Result<(), u64> {
    match copy_from_user_prefix(p, va, dst) {
        n if n == dst.len() => Ok(()),
        n => Err(va.wrapping_add(n as u64)),
    }
}

/// Copies from user address `va` into `dst` up to the first byte no VMA lets the
/// process read; returns how many bytes (what Linux's `read`/`write` report for a
/// buffer that runs into an unmapped page).
pub fn copy_from_user_prefix(p: &Process, va: u64, dst: &mut [u8]) -> usize {
    if check_range(va, dst.len()).is_err() {
        return 0;
    }
    let mut done = 0;
    for _ in 0..pages(va, dst.len()) + EXTRA_FAULTS {
        done += p.user.copy_prefix(va + done as u64, &mut dst[done..]);
        if done == dst.len() || p.mm.page_fault(va + done as u64, Access::Read).is_err() {
            break;
        }
    }
    done
}

/// Copies `src` to user address `va`.
pub fn copy_to_user(p: &Process, va: u64, src: &[u8]) -> Result<(), u64> {
    match copy_to_user_prefix(p, va, src) {
        n if n == src.len() => Ok(()),
        n => Err(va.wrapping_add(n as u64)),
    }
}

/// Copies `src` to user address `va` up to the first byte no VMA lets the process
/// write; returns how many bytes.
pub fn copy_to_user_prefix(p: &Process, va: u64, src: &[u8]) -> usize {
    if check_range(va, src.len()).is_err() {
        return 0;
    }
    let mut done = 0;
    for _ in 0..pages(va, src.len()) + EXTRA_FAULTS {
        done += p.user.copy_to_prefix(va + done as u64, &src[done..]);
        if done == src.len() || p.mm.page_fault(va + done as u64, Access::Write).is_err() {
            break;
        }
    }
    done
}

/// Why a string could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrError {
    /// An address no VMA allows.
    Fault,
    /// No NUL within the buffer.
    TooLong,
}

/// Reads a NUL-terminated string from `va` into `buf` (at most `buf.len()` bytes,
/// NUL excluded); returns its length.
pub fn read_c_string(p: &Process, va: u64, buf: &mut [u8]) -> Result<usize, StrError> {
    let mut len = 0;
    while len < buf.len() {
        // Up to the end of the page at a time: a string may end right before an
        // unmapped page.
        let at = va.wrapping_add(len as u64);
        let in_page = (0x1000 - (at & 0xfff)) as usize;
        let n = in_page.min(buf.len() - len);
        copy_from_user(p, at, &mut buf[len..len + n]).map_err(|_| StrError::Fault)?;
        if let Some(nul) = buf[len..len + n].iter().position(|&b| b == 0) {
            return Ok(len + nul);
        }
        len += n;
    }
    Err(StrError::TooLong)
}
