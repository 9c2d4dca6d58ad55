//! The legacy 8259 interrupt controllers: moved off the exception vectors and
//! masked, once, at boot. The kernel takes no device interrupts; processes run with
//! RFLAGS.IF set (as on Linux), so nothing may be left that could raise one, least of
//! all the BIOS's timer on IRQ 0, which would arrive at vector 8 (#DF).

use x86_64::instructions::port::Port;

/// First vector of the master controller after the move (the slave follows at +8).
const BASE: u8 = 0x20;

/// Reprograms both controllers (ICW1..ICW4: vectors 0x20-0x2f, cascade on IRQ 2,
/// 8086 mode) and masks every line.
pub fn disable() {
    let (mut master_cmd, mut master_data) = (Port::<u8>::new(0x20), Port::<u8>::new(0x21));
    let (mut slave_cmd, mut slave_data) = (Port::<u8>::new(0xa0), Port::<u8>::new(0xa1));
    // SAFETY: ports 0x20/0x21 and 0xa0/0xa1 are the 8259 pair of the PC platform and
    // nothing else in the kernel drives them; the sequence is the standard
    // initialisation, ending with every line masked, so no interrupt can follow.
    unsafe {
        master_cmd.write(0x11);
        slave_cmd.write(0x11);
        master_data.write(BASE);
        slave_data.write(BASE + 8);
        master_data.write(4);
        slave_data.write(2);
        master_data.write(1);
        slave_data.write(1);
        master_data.write(0xff);
        slave_data.write(0xff);
    }
}
