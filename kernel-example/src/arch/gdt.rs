//! Global descriptor table and task-state segment with the interrupt stacks.
//!
//! Ring-3 traps switch to [`TRAP_STACK`] (`TSS.RSP0`); `#DF`, `#BR` and `#PF` always run
//! on their own IST stacks so that a fault taken with a broken stack still gets a
//! working one.

use spin::Once;
use x86_64::instructions::segmentation::{Segment, CS, DS, ES, SS};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{
    Descriptor, DescriptorFlags, GlobalDescriptorTable, SegmentSelector,
};
use x86_64::structures::tss::TaskStateSegment;
use x86_64::VirtAddr;

/// IST slot (1-based in the IDT, 0-based here) for double faults.
pub const DOUBLE_FAULT_IST: u16 = 0;
/// IST slot for `#BR`.
pub const BOUND_RANGE_IST: u16 = 1;
/// IST slot for page faults.
pub const PAGE_FAULT_IST: u16 = 2;

const STACK_SIZE: usize = 64 * 1024;

#[repr(C, align(16))]
struct Stack([u8; STACK_SIZE]);

static mut TRAP_STACK: Stack = Stack([0; STACK_SIZE]);
static mut IST_STACKS: [Stack; 3] = [
    Stack([0; STACK_SIZE]),
    Stack([0; STACK_SIZE]),
    Stack([0; STACK_SIZE]),
];

/// The segment selectors the rest of the kernel needs.
#[derive(Clone, Copy, Debug)]
pub struct Selectors {
    /// Ring-0 code (64-bit).
    pub kernel_code: SegmentSelector,
    /// Ring-0 code, 32-bit (compatibility mode): used by the boot probes.
    pub kernel_code32: SegmentSelector,
    /// Ring-0 data (stack).
    pub kernel_data: SegmentSelector,
    /// Ring-3 data (stack), RPL 3.
    pub user_data: SegmentSelector,
    /// Ring-3 code, RPL 3.
    pub user_code: SegmentSelector,
    tss: SegmentSelector,
}

static TSS: Once<TaskStateSegment> = Once::new();
/// Descriptor slots: null, four flat segments, the TSS (two slots), the 32-bit code
/// segment, and room for more.
const GDT_SLOTS: usize = 16;

static GDT: Once<(GlobalDescriptorTable<GDT_SLOTS>, Selectors)> = Once::new();

fn stack_top(stack: *const Stack) -> VirtAddr {
    VirtAddr::from_ptr(stack) + STACK_SIZE as u64
}

fn ist_stack(slot: u16) -> *const Stack {
    // SAFETY: only the address of the static is taken; nothing reads or writes it
    // through a reference. (`slot` indexes a 3-element array: checked.)
    unsafe { (&raw const IST_STACKS[slot as usize]).cast::<Stack>() }
}

/// Whether `address` lies on the IST stack of `slot` (one of the `*_IST` constants):
/// the trap dispatcher uses it to check that `#DF`, `#BR` and `#PF` really arrive
/// on their own stacks.
pub fn is_on_ist_stack(slot: u16, address: u64) -> bool {
    let top = stack_top(ist_stack(slot)).as_u64();
    (top - STACK_SIZE as u64..top).contains(&address)
}

/// Top of the stack ring-3 traps (and the `syscall` entry) run on (`TSS.RSP0`).
pub fn trap_stack_top() -> u64 {
    stack_top(&raw const TRAP_STACK).as_u64()
}

/// Builds and loads the GDT and TSS and reloads the segment registers.
pub fn init() {
    let tss = TSS.call_once(|| {
        let mut tss = TaskStateSegment::new();
        tss.privilege_stack_table[0] = stack_top(&raw const TRAP_STACK);
        for slot in [DOUBLE_FAULT_IST, BOUND_RANGE_IST, PAGE_FAULT_IST] {
            tss.interrupt_stack_table[slot as usize] = stack_top(ist_stack(slot));
        }
        tss
    });
    let (gdt, selectors) = GDT.call_once(|| {
        let mut gdt = GlobalDescriptorTable::<GDT_SLOTS>::empty();
        let kernel_code = gdt.append(Descriptor::kernel_code_segment());
        let kernel_data = gdt.append(Descriptor::kernel_data_segment());
        let user_data = gdt.append(Descriptor::user_data_segment());
        let user_code = gdt.append(Descriptor::user_code_segment());
        let tss = gdt.append(Descriptor::tss_segment(tss));
        let kernel_code32 = gdt.append(Descriptor::UserSegment(
            DescriptorFlags::KERNEL_CODE32.bits(),
        ));
        (
            gdt,
            Selectors {
                kernel_code,
                kernel_code32,
                kernel_data,
                user_data,
                user_code,
                tss,
            },
        )
    });
    gdt.load();
    // SAFETY: the selectors come from the GDT just loaded and describe flat 64-bit
    // segments; the TSS descriptor points at a `'static` TSS.
    unsafe {
        CS::set_reg(selectors.kernel_code);
        SS::set_reg(selectors.kernel_data);
        DS::set_reg(selectors.kernel_data);
        ES::set_reg(selectors.kernel_data);
        load_tss(selectors.tss);
    }
}

/// The selectors of the loaded GDT.
///
/// # Panics
/// If [`init`] has not run.
pub fn selectors() -> Selectors {
    GDT.get().expect("gdt::init not called").1
}
