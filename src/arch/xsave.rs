//! Where MPX state sits in a standard-format XSAVE image.
//!
//! Component 3 (BNDREGS) holds BND0-BND3 at offset 960, 16 bytes each
//! (lower bound, then the one's-complemented upper bound). Component 4
//! (BNDCSR) holds BNDCFGU at offset 1024 and BNDSTATUS at 1032. A component
//! whose XSTATE_BV bit (in the header at offset 512) is clear is in its init
//! state: all zero, whatever the image holds. Offsets: CPUID.(0xD,3) and
//! (0xD,4), confirmed under QEMU TCG; also Linux's MPX selftest. The bound
//! registers are parsed by
//! [`BoundRegisters::from_xsave`](crate::violation::BoundRegisters::from_xsave).

use super::registers::{BndStatus, Bndcfg};

/// XCR0 / XSTATE_BV bit of the bound registers (component 3).
pub const XSTATE_BNDREGS: u64 = 1 << 3;
/// XCR0 / XSTATE_BV bit of BNDCFGU and BNDSTATUS (component 4).
pub const XSTATE_BNDCSR: u64 = 1 << 4;
/// Offset of the XSAVE header (XSTATE_BV is its first 8 bytes).
pub const XSAVE_HEADER_OFFSET: usize = 512;
/// Offset of component 3 in the standard format.
pub const BNDREGS_OFFSET: usize = 960;
/// Size of component 3.
pub const BNDREGS_SIZE: usize = 64;
/// Offset of component 4 in the standard format.
pub const BNDCSR_OFFSET: usize = 1024;
/// Size of component 4 (only the first 16 bytes carry state).
pub const BNDCSR_SIZE: usize = 64;

pub(crate) fn read_u64(image: &[u8], offset: usize) -> Option<u64> {
    let bytes = image.get(offset..offset.checked_add(8)?)?;
    let mut raw = [0u8; 8];
    raw.copy_from_slice(bytes);
    Some(u64::from_le_bytes(raw))
}

/// XSTATE_BV of an image; `None` if the image is too short to hold the header.
pub fn xstate_bv(image: &[u8]) -> Option<u64> {
    read_u64(image, XSAVE_HEADER_OFFSET)
}

/// BNDCFGU and BNDSTATUS from an XSAVE image.
///
/// `None` when the image is too short or component 4 is in its init state
/// (Linux then treated a #BR as "not from MPX").
pub fn read_bndcsr(image: &[u8]) -> Option<(Bndcfg, BndStatus)> {
    if xstate_bv(image)? & XSTATE_BNDCSR == 0 {
        return None;
    }
    Some((
        Bndcfg::from_raw(read_u64(image, BNDCSR_OFFSET)?),
        BndStatus::from_raw(read_u64(image, BNDCSR_OFFSET + 8)?),
    ))
}

/// Writes BNDCFGU into an XSAVE image and marks component 4 as in use, ready
/// for an XRSTOR that loads it (the only way to set BNDCFGU).
///
/// Returns `false` (and changes nothing) if the image is too short.
pub fn write_bndcfgu(image: &mut [u8], value: Bndcfg) -> bool {
    let Some(bv) = xstate_bv(image) else {
        return false;
    };
    if image.len() < BNDCSR_OFFSET + 16 {
        return false;
    }
    image[BNDCSR_OFFSET..BNDCSR_OFFSET + 8].copy_from_slice(&value.raw().to_le_bytes());
    image[XSAVE_HEADER_OFFSET..XSAVE_HEADER_OFFSET + 8]
        .copy_from_slice(&(bv | XSTATE_BNDCSR).to_le_bytes());
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_state_and_values() {
        let mut image = [0u8; 1088];
        assert_eq!(read_bndcsr(&image), None);
        assert!(write_bndcfgu(&mut image, Bndcfg::from_raw(0x5000_0001)));
        image[BNDCSR_OFFSET + 8] = 0x0a;
        let (cfg, status) = read_bndcsr(&image).unwrap();
        assert_eq!(cfg.raw(), 0x5000_0001);
        assert_eq!(status.raw(), 0x0a);
        assert_eq!(read_bndcsr(&image[..1030]), None);
        assert!(!write_bndcfgu(&mut [0u8; 600], Bndcfg::from_raw(1)));
    }
}
