//! Bounds-violation reports (#BR with BNDSTATUS code 1).
