//! Multiboot header and the 32-bit trampoline that enters long mode.
//!
//! QEMU's `-kernel` loads the image through the multiboot "a.out kludge" (header flag
//! bit 16): it copies the file from the header on to the physical load address, zeroes
//! nothing else, and jumps to `_start` in 32-bit protected mode with paging off.
//!
//! The trampoline zeroes `.bss`, builds boot page tables that map the first 4 GiB of
//! physical memory three times (identity, the kernel's physical map at
//! `mm::phys::PHYS_OFFSET`, and the kernel image at `-2 GiB`), all with 2 MiB
//! pages and without the USER bit, turns on PAE, `EFER.LME` and paging, and far-jumps to
//! 64-bit code that switches to the high kernel stack and calls `kmain(magic, info)`.
//! The identity map is dropped once Rust code runs (`mm::paging::init`).

core::arch::global_asm!(
    r#"
    .set MB_MAGIC, 0x1BADB002
    .set MB_FLAGS, 0x00010003
    .section .multiboot, "a"
    .balign 4
multiboot_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .long multiboot_header
    .long __kernel_phys_start
    .long __load_end_phys
    .long __bss_end_phys
    .long _start

    .section .boot.text, "ax"
    .code32
    .global _start
_start:
    cli
    mov esp, offset boot_stack_top
    mov ebp, eax            /* multiboot magic; ebx keeps the info pointer */

    /* Zero .bss. */
    mov edi, offset __load_end_phys
    mov ecx, offset __bss_end_phys
    sub ecx, edi
    xor eax, eax
    cld
    rep stosb

    /* boot_pd: 2048 entries of 2 MiB each = 4 GiB, present | writable | huge. */
    mov edi, offset boot_pd
    xor ecx, ecx
2:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83
    mov dword ptr [edi + ecx * 8], eax
    mov eax, ecx
    shr eax, 11
    mov dword ptr [edi + ecx * 8 + 4], eax
    inc ecx
    cmp ecx, 2048
    jne 2b

    /* boot_pdpt_low[0..4] = the four page directories. */
    mov edi, offset boot_pdpt_low
    mov eax, offset boot_pd
    or eax, 3
    mov dword ptr [edi], eax
    add eax, 0x1000
    mov dword ptr [edi + 8], eax
    add eax, 0x1000
    mov dword ptr [edi + 16], eax
    add eax, 0x1000
    mov dword ptr [edi + 24], eax

    /* boot_pdpt_high[510] = first page directory: -2 GiB maps physical 0. */
    mov edi, offset boot_pdpt_high
    mov eax, offset boot_pd
    or eax, 3
    mov dword ptr [edi + 510 * 8], eax

    /* PML4: [0] identity, [256] physical map, [511] kernel image. */
    mov edi, offset boot_pml4
    mov eax, offset boot_pdpt_low
    or eax, 3
    mov dword ptr [edi], eax
    mov dword ptr [edi + 256 * 8], eax
    mov eax, offset boot_pdpt_high
    or eax, 3
    mov dword ptr [edi + 511 * 8], eax

    mov eax, offset boot_pml4
    mov cr3, eax
    mov eax, cr4
    or eax, 0x620           /* PAE | OSFXSR | OSXMMEXCPT (SSE for Rust code) */
    mov cr4, eax
    mov ecx, 0xC0000080     /* IA32_EFER */
    rdmsr
    or eax, 0x100           /* LME */
    wrmsr
    mov eax, cr0
    and eax, 0xFFFFFFFB     /* clear EM */
    or eax, 0x80050022      /* PG | AM | WP | NE | MP: #AC and #MF as on Linux */
    mov cr0, eax

    lgdt [boot_gdt_pointer]
    mov eax, offset boot_long_mode
    push 0x08
    push eax
    retf

    .code64
boot_long_mode:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    movabs rax, offset kernel_stack_top
    mov rsp, rax
    mov edi, ebp
    mov esi, ebx
    movabs rax, offset kmain
    call rax
3:
    hlt
    jmp 3b

    .section .boot.data, "aw", @progbits
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF
    .quad 0x00CF92000000FFFF
boot_gdt_end:
boot_gdt_pointer:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt
    .balign 4096
boot_pml4:
    .skip 4096
boot_pdpt_low:
    .skip 4096
boot_pdpt_high:
    .skip 4096
boot_pd:
    .skip 4096 * 4
boot_stack:
    .skip 4096
boot_stack_top:

    .section .bss.kernel_stack, "aw", @nobits
    .balign 16
kernel_stack:
    .skip 65536
    .global kernel_stack_top
kernel_stack_top:
    .text
"#
);
