//! Bounds-directory and bounds-table geometry for 64-bit and 32-bit processes.
//!
//! One kernel may host both kinds of process, so the geometry is a value
//! ([`Geometry`]) chosen per process, never a global.
//!
//! Sources: Intel SDM vol. 1 ch. 17 (address translation for BNDLDX/BNDSTX);
//! the table sizes match Linux's `asm/mpx.h` (BD 2 GiB / BT 4 MiB in 64-bit
//! mode, BD 4 MiB / BT 16 KiB in 32-bit mode).

/// The kind of process whose bounds tables are managed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// A 64-bit process: 2 GiB directory of 8-byte entries, 4 MiB tables.
    Long64,
    /// A 32-bit process: 4 MiB directory of 4-byte entries, 16 KiB tables.
    Compat32,
}

/// Size of a page in bytes (4 KiB).
pub const PAGE_SIZE: u64 = 4096;

/// Width of a directory entry (and of every bounds-table field): 8 bytes in
/// 64-bit processes, 4 in 32-bit ones. Only [`Geometry::entry_width`] makes one.
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

    /// The mask of the bits a value of this width holds.
    pub const fn mask(self) -> u64 {
        match self {
            EntryWidth::Four => 0xFFFF_FFFF,
            EntryWidth::Eight => u64::MAX,
        }
    }
}

/// The two-level MPX layout for one kind of process.
///
/// A linear address is split as `[directory index | table index | ignored]`:
/// the directory index selects a [`DirectoryEntry`](super::DirectoryEntry),
/// which points at a bounds table; the table index selects one
/// [`BoundsTableEntry`](super::BoundsTableEntry) in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Geometry {
    mode: Mode,
    /// Lowest address bit of the directory index (also log2 of the span one table covers).
    dir_shift: u32,
    /// Number of bits of the directory index.
    dir_bits: u32,
    /// log2 of the size of a directory entry in bytes.
    dir_entry_shift: u32,
    /// Lowest address bit of the table index (the address bits below are ignored).
    table_shift: u32,
    /// log2 of the size of a table entry in bytes.
    table_entry_shift: u32,
}

impl Geometry {
    /// The 64-bit layout (MAWA = 0): directory indexed by bits 47:20, tables by bits 19:3.
    pub const LONG64: Geometry = Geometry {
        mode: Mode::Long64,
        dir_shift: 20,
        dir_bits: 28,
        dir_entry_shift: 3,
        table_shift: 3,
        table_entry_shift: 5,
    };

    /// The 32-bit layout: directory indexed by bits 31:12, tables by bits 11:2.
    pub const COMPAT32: Geometry = Geometry {
        mode: Mode::Compat32,
        dir_shift: 12,
        dir_bits: 20,
        dir_entry_shift: 2,
        table_shift: 2,
        table_entry_shift: 4,
    };

    /// The geometry of a process of the given mode.
    pub const fn of(mode: Mode) -> Geometry {
        match mode {
            Mode::Long64 => Self::LONG64,
            Mode::Compat32 => Self::COMPAT32,
        }
    }

    /// The process kind this geometry belongs to.
    pub const fn mode(&self) -> Mode {
        self.mode
    }

    /// Number of entries in the bounds directory (2^28 or 2^20).
    pub const fn directory_entries(&self) -> u64 {
        1 << self.dir_bits
    }

    /// Size of one directory entry in bytes (8 or 4).
    pub const fn directory_entry_bytes(&self) -> u64 {
        1 << self.dir_entry_shift
    }

    /// Width of a directory entry, and of each of the four fields of a
    /// bounds-table entry (lower, upper, pointer, reserved): the process's
    /// word size.
    pub const fn entry_width(&self) -> EntryWidth {
        match self.dir_entry_shift {
            2 => EntryWidth::Four,
            _ => EntryWidth::Eight,
        }
    }

    /// Size of the whole bounds directory in bytes (2 GiB or 4 MiB).
    pub const fn directory_bytes(&self) -> u64 {
        self.directory_entries() << self.dir_entry_shift
    }

    /// Number of entries in one bounds table (2^17 or 2^10).
    pub const fn table_entries(&self) -> u64 {
        1 << (self.dir_shift - self.table_shift)
    }

    /// Size of one bounds-table entry in bytes (32 or 16).
    pub const fn table_entry_bytes(&self) -> u64 {
        1 << self.table_entry_shift
    }

    /// Size of one bounds table in bytes (4 MiB or 16 KiB).
    pub const fn table_bytes(&self) -> u64 {
        self.table_entries() << self.table_entry_shift
    }

    /// Bytes of address space covered by one table, i.e. by one directory entry (1 MiB or 4 KiB).
    pub const fn span_bytes(&self) -> u64 {
        1 << self.dir_shift
    }

    /// One past the highest address the directory can describe (2^48 or 2^32).
    pub const fn address_limit(&self) -> u64 {
        1 << (self.dir_shift + self.dir_bits)
    }

    /// One past the highest user address the directory describes: the top of
    /// the lower canonical half (2^47) in 64-bit mode, all of it (2^32) in
    /// 32-bit mode. Entries above describe kernel addresses.
    pub const fn user_limit(&self) -> u64 {
        match self.mode {
            Mode::Long64 => 1 << 47,
            Mode::Compat32 => self.address_limit(),
        }
    }

    /// Drops the address bits the directory ignores (63:48 in 64-bit mode, 63:32 in 32-bit mode).
    pub const fn truncate(&self, address: u64) -> u64 {
        address & (self.address_limit() - 1)
    }

    /// Directory index of `address`.
    pub const fn directory_index(&self, address: u64) -> u64 {
        self.truncate(address) >> self.dir_shift
    }

    /// Byte offset, from the directory base, of the entry for `address`.
    pub const fn directory_entry_offset(&self, address: u64) -> u64 {
        self.directory_index(address) << self.dir_entry_shift
    }

    /// Index of the entry for `address` inside its bounds table.
    pub const fn table_index(&self, address: u64) -> u64 {
        (address >> self.table_shift) & (self.table_entries() - 1)
    }

    /// Byte offset, from the table base, of the entry for `address`.
    pub const fn table_entry_offset(&self, address: u64) -> u64 {
        self.table_index(address) << self.table_entry_shift
    }

    /// First address of the span described by directory entry `index`.
    pub const fn span_start(&self, index: u64) -> u64 {
        index << self.dir_shift
    }

    /// Directory index whose entry sits at byte `offset` of the directory.
    pub const fn index_of_entry_offset(&self, offset: u64) -> u64 {
        offset >> self.dir_entry_shift
    }

    /// Offset in a table of the entry describing data at `offset_in_span` bytes into the span.
    ///
    /// Used to turn a data range inside a span into the table range that describes it.
    pub const fn table_offset_for_span_offset(&self, offset_in_span: u64) -> u64 {
        (offset_in_span >> self.table_shift) << self.table_entry_shift
    }
}

// The numbers from the SDM and Linux's headers, checked at compile time.
const _: () = {
    let g = Geometry::LONG64;
    assert!(g.directory_bytes() == 1 << 31);
    assert!(g.table_bytes() == 1 << 22);
    assert!(g.table_entry_bytes() == 32);
    assert!(g.span_bytes() == 1 << 20);
    assert!(g.span_bytes() * g.directory_entries() == 1 << 48);
    let g = Geometry::COMPAT32;
    assert!(g.directory_bytes() == 1 << 22);
    assert!(g.table_bytes() == 1 << 14);
    assert!(g.table_entry_bytes() == 16);
    assert!(g.span_bytes() == 1 << 12);
    assert!(g.span_bytes() * g.directory_entries() == 1 << 32);
    assert!(g.entry_width().bytes() == g.directory_entry_bytes());
    assert!(g.table_entry_bytes() == 4 * g.entry_width().bytes());
};

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn long64_offsets() {
        let g = Geometry::LONG64;
        assert_eq!(g.directory_entry_offset(0), 0);
        assert_eq!(g.table_entry_offset(0), 0);
        assert_eq!(g.directory_entry_offset(MIB - 8), 0);
        assert_eq!(g.table_entry_offset(MIB - 8), (MIB / 8 - 1) * 32);
        assert_eq!(g.table_entry_offset(MIB - 8) + 32, g.table_bytes());
        assert_eq!(g.directory_entry_offset(MIB), 8);
        assert_eq!(g.table_entry_offset(MIB), 0);
        let top = (1u64 << 47) - 8;
        assert_eq!(g.directory_entry_offset(top), ((1u64 << 27) - 1) * 8);
        // Upper-half addresses: bits 63:48 are ignored.
        let upper = 0xffff_8000_0000_0000u64;
        assert_eq!(g.directory_entry_offset(upper), (1u64 << 27) * 8);
        assert_eq!(g.directory_entry_offset(u64::MAX), g.directory_bytes() - 8);
        // The low 3 bits are ignored.
        assert_eq!(g.table_entry_offset(7), 0);
        assert_eq!(g.table_entry_offset(8), 32);
    }

    #[test]
    fn compat32_offsets() {
        let g = Geometry::COMPAT32;
        let la = 0xffff_fffc;
        assert_eq!(g.directory_entry_offset(la), g.directory_bytes() - 4);
        assert_eq!(g.table_entry_offset(la), g.table_bytes() - 16);
        assert_eq!(g.directory_entry_offset(4096), 4);
        assert_eq!(g.table_entry_offset(4), 16);
        assert_eq!(g.table_entry_offset(3), 0);
    }

    #[test]
    fn sizes_multiply_out() {
        for g in [Geometry::LONG64, Geometry::COMPAT32] {
            assert_eq!(g.table_entries() * g.table_entry_bytes(), g.table_bytes());
            assert_eq!(
                g.directory_entries() * g.directory_entry_bytes(),
                g.directory_bytes()
            );
            assert_eq!(g.span_bytes() * g.directory_entries(), g.address_limit());
            assert_eq!(
                g.table_offset_for_span_offset(g.span_bytes()),
                g.table_bytes()
            );
            assert_eq!(Geometry::of(g.mode()), g);
        }
    }

    #[test]
    fn span_round_trip() {
        let g = Geometry::LONG64;
        for a in [0u64, MIB, 5 * MIB + 77, (1 << 47) - 1] {
            let i = g.directory_index(a);
            assert!(g.span_start(i) <= a && a < g.span_start(i) + g.span_bytes());
            assert_eq!(g.index_of_entry_offset(g.directory_entry_offset(a)), i);
        }
    }
}
