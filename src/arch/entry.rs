//! Bounds-directory entries and bounds-table entries.
//!
//! A directory entry is the table's address with bit 0 as the valid bit
//! (SDM vol. 1 §17.4.2). The kernel-side convention (Linux's `get_bt_addr`)
//! is stricter than the hardware: an entry is either all zero or
//! `table | VALID`; address bits without the valid bit mean corruption.

use super::layout::Geometry;

/// A raw bounds-directory entry (8 bytes in 64-bit mode, 4 in 32-bit mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct DirectoryEntry(u64);

/// What a directory entry says about its span.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryState {
    /// Zero: no table; the next BNDLDX/BNDSTX raises #BR code 2.
    Absent,
    /// Valid: a table at this address.
    Table(u64),
    /// Invalid but not zero: not something the kernel wrote.
    Corrupt(u64),
}

impl DirectoryEntry {
    /// Bit 0: the entry points at a table.
    pub const VALID: u64 = 1;

    /// The empty entry.
    pub const ABSENT: DirectoryEntry = DirectoryEntry(0);

    /// Wraps a raw value as read from the directory.
    pub const fn from_raw(raw: u64) -> DirectoryEntry {
        DirectoryEntry(raw)
    }

    /// The entry that points at a table at `table`.
    pub const fn for_table(table: u64) -> DirectoryEntry {
        DirectoryEntry(table | Self::VALID)
    }

    /// The raw value.
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// Whether the valid bit is set.
    pub const fn is_valid(self) -> bool {
        self.0 & Self::VALID != 0
    }

    /// Decodes the entry for a process of the given geometry.
    ///
    /// The table address is the entry with its low bits cleared: tables are
    /// aligned to the entry size (8 or 4 bytes), and the hardware ignores
    /// those bits.
    pub const fn state(self, geometry: &Geometry) -> EntryState {
        let low_mask = geometry.directory_entry_bytes() - 1;
        if self.0 == 0 {
            EntryState::Absent
        } else if self.is_valid() {
            EntryState::Table(self.0 & !low_mask)
        } else {
            EntryState::Corrupt(self.0)
        }
    }
}

/// One bounds-table entry, as BNDSTX writes it.
///
/// The upper bound is kept as the register holds it: one's complement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BoundsTableEntry {
    /// Lower bound.
    pub lower: u64,
    /// Upper bound in one's complement (`!upper`), as stored by the CPU.
    pub upper_complemented: u64,
    /// The pointer value the bounds belong to; BNDLDX loads INIT bounds if it differs.
    pub pointer: u64,
    /// Reserved slot; zero.
    pub reserved: u64,
}

impl BoundsTableEntry {
    /// The entry BNDSTX writes for `pointer` with bounds `[lower, upper]` (inclusive).
    pub const fn new(pointer: u64, lower: u64, upper: u64) -> BoundsTableEntry {
        BoundsTableEntry {
            lower,
            upper_complemented: !upper,
            pointer,
            reserved: 0,
        }
    }

    /// The inclusive upper bound.
    pub const fn upper(&self) -> u64 {
        !self.upper_complemented
    }

    /// Whether every field is zero (a never-written or released entry).
    pub const fn is_empty(&self) -> bool {
        self.lower == 0 && self.upper_complemented == 0 && self.pointer == 0 && self.reserved == 0
    }

    /// Serializes the entry in the layout of `geometry` (4 × 8 or 4 × 4 bytes, little endian).
    ///
    /// In 32-bit mode only the low halves of the fields are kept. Returns the
    /// number of bytes used (32 or 16).
    pub fn to_bytes(&self, geometry: &Geometry, out: &mut [u8; 32]) -> usize {
        let fields = [
            self.lower,
            self.upper_complemented,
            self.pointer,
            self.reserved,
        ];
        let width = geometry.entry_width().bytes() as usize;
        for (i, field) in fields.iter().enumerate() {
            out[i * width..(i + 1) * width].copy_from_slice(&field.to_le_bytes()[..width]);
        }
        width * 4
    }

    /// Parses an entry laid out for `geometry`; `None` if `bytes` is too short.
    pub fn from_bytes(geometry: &Geometry, bytes: &[u8]) -> Option<BoundsTableEntry> {
        let width = geometry.entry_width().bytes() as usize;
        if bytes.len() < width * 4 {
            return None;
        }
        let field = |i: usize| {
            let mut raw = [0u8; 8];
            raw[..width].copy_from_slice(&bytes[i * width..(i + 1) * width]);
            u64::from_le_bytes(raw)
        };
        Some(BoundsTableEntry {
            lower: field(0),
            upper_complemented: field(1),
            pointer: field(2),
            reserved: field(3),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_entries() {
        let g = Geometry::LONG64;
        assert_eq!(DirectoryEntry::from_raw(0).state(&g), EntryState::Absent);
        assert_eq!(
            DirectoryEntry::from_raw(0x7000_0001).state(&g),
            EntryState::Table(0x7000_0000)
        );
        assert_eq!(
            DirectoryEntry::from_raw(0x7000_0007).state(&g),
            EntryState::Table(0x7000_0000)
        );
        assert_eq!(
            DirectoryEntry::from_raw(0x7000_0000).state(&g),
            EntryState::Corrupt(0x7000_0000)
        );
        let g32 = Geometry::COMPAT32;
        assert_eq!(
            DirectoryEntry::from_raw(0x7000_0005).state(&g32),
            EntryState::Table(0x7000_0004)
        );
        assert_eq!(DirectoryEntry::for_table(0x1000).raw(), 0x1001);
    }

    #[test]
    fn table_entry_round_trip() {
        let e = BoundsTableEntry::new(0x1234, 0x1000, 0x1fff);
        assert_eq!(e.upper(), 0x1fff);
        let mut buf = [0u8; 32];
        let (g64, g32) = (Geometry::LONG64, Geometry::COMPAT32);
        assert_eq!(e.to_bytes(&g64, &mut buf), 32);
        assert_eq!(BoundsTableEntry::from_bytes(&g64, &buf), Some(e));
        let e32 = BoundsTableEntry::new(0x1234, 0x1000, 0x1fff);
        assert_eq!(e32.to_bytes(&g32, &mut buf), 16);
        let back = BoundsTableEntry::from_bytes(&g32, &buf[..16]).unwrap();
        assert_eq!(back.lower, 0x1000);
        assert_eq!(back.upper_complemented as u32, !0x1fffu32);
        assert!(BoundsTableEntry::from_bytes(&g64, &buf[..31]).is_none());
        assert!(BoundsTableEntry::default().is_empty());
    }
}
