//! Time: the wall clock read from the CMOS RTC at boot, and elapsed time from the
//! time-stamp counter, calibrated against the PIT. The monotonic clock never goes
//! back (it is the TSC's count since boot, scaled).

use core::arch::x86_64::_rdtsc;
use x86_64::instructions::port::Port;

/// Nanoseconds per second.
pub const NANOS: u64 = 1_000_000_000;

struct Clock {
    tsc_at_boot: u64,
    tsc_hz: u64,
    unix_at_boot: u64,
}

static CLOCK: spin::Once<Clock> = spin::Once::new();

fn rdtsc() -> u64 {
    // SAFETY: RDTSC has no preconditions in ring 0.
    unsafe { _rdtsc() }
}

fn cmos(register: u8) -> u8 {
    let (mut select, mut data) = (Port::<u8>::new(0x70), Port::<u8>::new(0x71));
    // SAFETY: ports 0x70/0x71 are the CMOS index and data registers; bit 7 of the
    // index keeps NMIs enabled as they are (the kernel never disables them).
    unsafe {
        select.write(register);
        data.read()
    }
}

/// Seconds since 1970 from the RTC (waits for an update to finish first).
fn rtc_unix() -> u64 {
    while cmos(0x0A) & 0x80 != 0 {
        core::hint::spin_loop();
    }
    let status_b = cmos(0x0B);
    let bcd = status_b & 0x04 == 0;
    let read = |r| {
        let v = cmos(r);
        if bcd {
            u64::from((v & 0x0F) + (v >> 4) * 10)
        } else {
            u64::from(v)
        }
    };
    let (second, minute, day, month, year) =
        (read(0x00), read(0x02), read(0x07), read(0x08), read(0x09));
    let mut hour_raw = cmos(0x04);
    let pm = hour_raw & 0x80 != 0;
    hour_raw &= 0x7F;
    let mut hour = if bcd {
        u64::from((hour_raw & 0x0F) + (hour_raw >> 4) * 10)
    } else {
        u64::from(hour_raw)
    };
    if status_b & 0x02 == 0 && pm {
        hour = (hour % 12) + 12;
    }
    let year = 2000 + year;
    // Days from 1970-01-01 to the date (proleptic Gregorian).
    let days_before_year = |y: u64| {
        let y = y - 1;
        y * 365 + y / 4 - y / 100 + y / 400 - (1969 * 365 + 1969 / 4 - 1969 / 100 + 1969 / 400)
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    const CUMULATIVE: [u64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let month_index = (month.clamp(1, 12) - 1) as usize;
    let days = days_before_year(year)
        + CUMULATIVE[month_index]
        + u64::from(leap && month > 2)
        + day.saturating_sub(1);
    ((days * 24 + hour) * 60 + minute) * 60 + second
}

/// TSC ticks in 10 ms of the PIT (channel 2, gate on, speaker off).
fn tsc_per_10ms() -> u64 {
    const PIT_HZ: u64 = 1_193_182;
    let count = (PIT_HZ / 100) as u16;
    let (mut gate, mut command, mut channel2) = (
        Port::<u8>::new(0x61),
        Port::<u8>::new(0x43),
        Port::<u8>::new(0x42),
    );
    // SAFETY: ports 0x61, 0x43 and 0x42 are the PIT's channel 2 gate, mode register
    // and counter; the kernel uses channel 2 for nothing else.
    unsafe {
        let g = gate.read();
        gate.write((g & !0x02) | 0x01);
        command.write(0b1011_0000); // channel 2, lobyte/hibyte, mode 0
        channel2.write(count as u8);
        channel2.write((count >> 8) as u8);
        let start = rdtsc();
        while gate.read() & 0x20 == 0 {
            core::hint::spin_loop();
        }
        rdtsc() - start
    }
}

/// Reads the RTC and calibrates the TSC (once, at boot).
pub fn init() {
    CLOCK.call_once(|| {
        let unix = rtc_unix();
        let hz = tsc_per_10ms().max(1) * 100;
        Clock {
            tsc_at_boot: rdtsc(),
            tsc_hz: hz,
            unix_at_boot: unix,
        }
    });
}

fn clock() -> &'static Clock {
    CLOCK.get().expect("time::init not called")
}

/// Nanoseconds since boot (`CLOCK_MONOTONIC`).
pub fn monotonic_ns() -> u64 {
    let c = clock();
    let ticks = rdtsc().saturating_sub(c.tsc_at_boot);
    ((u128::from(ticks) * u128::from(NANOS)) / u128::from(c.tsc_hz)) as u64
}

/// Nanoseconds since 1970 (`CLOCK_REALTIME`).
pub fn realtime_ns() -> u64 {
    clock().unix_at_boot * NANOS + monotonic_ns()
}

/// Waits until the monotonic clock reaches `deadline_ns`.
pub fn wait_until(deadline_ns: u64) {
    while monotonic_ns() < deadline_ns {
        core::hint::spin_loop();
    }
}
