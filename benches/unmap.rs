//! Cost of the unmap hook, measured through the simulator's munmap.
//!
//! ```text
//! cargo bench --bench unmap
//! ```
//!
//! Linux's hook read one directory entry per table-covered span of the range
//! (2^26 reads for 64 TiB); ours skips directory pages that were never
//! touched, so a huge sparse unmap costs about as much as its populated spans.

use criterion::{criterion_group, criterion_main, Bencher, Criterion};
use mpx::sim::SimProcess;
use std::hint::black_box;
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;
const BASE: u64 = 1 << 40;
const TIB64: u64 = 64 << 40;

/// A process with MPX managed by the kernel.
fn process() -> SimProcess {
    let p = SimProcess::new();
    p.enable_mpx().expect("enable MPX");
    p
}

/// Maps `len` bytes at `addr` and stores one bound there (allocating a table).
fn mapped_with_table(p: &SimProcess, addr: u64, len: u64) {
    p.mmap_fixed(addr, len).expect("mmap_fixed");
    p.bndstx(addr, addr, addr, addr + 63).expect("bndstx");
}

/// Times `routine` alone, with `setup` run before each call (the setup must
/// run right before its routine: both work on the same addresses).
fn timed(b: &mut Bencher, mut setup: impl FnMut(), mut routine: impl FnMut()) {
    b.iter_custom(|iters| {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            setup();
            let start = Instant::now();
            routine();
            total += start.elapsed();
        }
        total
    })
}

fn unmap(c: &mut Criterion) {
    let mut group = c.benchmark_group("munmap");

    let p = process();
    group.bench_function("1 MiB span, table freed", |b| {
        timed(
            b,
            || mapped_with_table(&p, BASE, MIB),
            || p.munmap(black_box(BASE), MIB).expect("munmap"),
        )
    });

    let p = process();
    p.mmap_fixed(BASE + MIB / 2, MIB / 2).expect("neighbour");
    group.bench_function("half span, neighbour keeps table, pages released", |b| {
        timed(
            b,
            || mapped_with_table(&p, BASE, MIB / 2),
            || p.munmap(black_box(BASE), MIB / 2).expect("munmap"),
        )
    });

    let p = process();
    group.bench_function("64 MiB, 64 tables freed", |b| {
        timed(
            b,
            || {
                p.mmap_fixed(BASE, 64 * MIB).expect("mmap_fixed");
                for i in 0..64 {
                    let a = BASE + i * MIB;
                    p.bndstx(a, a, a, a + 63).expect("bndstx");
                }
            },
            || p.munmap(black_box(BASE), 64 * MIB).expect("munmap"),
        )
    });

    let p = process();
    group.bench_function("64 TiB sparse, 3 tables freed", |b| {
        timed(
            b,
            || {
                for i in 0..3 {
                    mapped_with_table(&p, BASE + i * (TIB64 / 4), MIB);
                }
            },
            || p.munmap(black_box(BASE), TIB64).expect("munmap"),
        )
    });

    let p = process();
    group.bench_function("64 TiB, nothing mapped", |b| {
        b.iter(|| p.munmap(black_box(BASE), TIB64).expect("munmap"))
    });
    group.finish();
}

criterion_group!(benches, unmap);
criterion_main!(benches);
