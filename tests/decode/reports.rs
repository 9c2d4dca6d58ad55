//! Violation reports built from decoded checks.

use super::*;

#[test]
fn bndcu_report_uncomplements_the_upper_bound() {
    // bndcu 0x10(%rsp,%r12,4), %bnd3  (from the table)
    let bytes = [0xf2, 0x42, 0x0f, 0x1a, 0x5c, 0xa4, 0x10];
    let regs = RegisterSnapshot::new([0; 16], 0x40_1000)
        .with(Gpr::RSP, 0x7fff_f000)
        .with(Gpr::R12, 0x100);
    let lower = 0x7fff_e000;
    let upper = 0x7fff_f3ff; // inclusive
    let bounds = BoundRegisters::new([[0; 2], [0; 2], [0; 2], [lower, !upper]]);
    let report = build_report(L64, &bytes, &regs, &bounds).unwrap();
    assert_eq!(
        report,
        ViolationReport {
            address: 0x7fff_f000 + 0x100 * 4 + 0x10,
            lower,
            upper,
            bound_register: Bnd::Bnd3,
            kind: CheckKind::Upper,
            instruction_len: 7,
        }
    );
    assert!(report.address > report.upper, "the check really fails");
    assert_eq!(
        report.to_string(),
        "bounds violation: BNDCU bnd3 address 0x7ffff410 outside \
         [0x7fffe000, 0x7ffff3ff] (insn 7 bytes)"
    );
}

#[test]
fn bndcl_and_bndcn_reports() {
    let regs = RegisterSnapshot::default().with(Gpr::RAX, 0x1000);
    let bounds = BoundRegisters::new([[0x2000, !0x2fff], [0x2000, 0x0fff], [0; 2], [0; 2]]);
    // bndcl %rax, %bnd0
    let report = build_report(L64, &[0xf3, 0x0f, 0x1a, 0xc0], &regs, &bounds).unwrap();
    assert_eq!(
        (report.address, report.lower, report.upper),
        (0x1000, 0x2000, 0x2fff)
    );
    assert_eq!(report.kind, CheckKind::Lower);
    // bndcn %rax, %bnd1: compares against the stored upper bound as is.
    let report = build_report(L64, &[0xf2, 0x0f, 0x1b, 0xc8], &regs, &bounds).unwrap();
    assert_eq!(
        (report.address, report.lower, report.upper),
        (0x1000, 0x2000, 0x0fff)
    );
    assert_eq!(report.kind, CheckKind::UpperNoComplement);
    assert!(report.address > report.upper);
}

#[test]
fn compat32_report_uses_low_halves() {
    // bndcu 0x10(%esp,%eax,4), %bnd1
    let bytes = [0xf2, 0x0f, 0x1a, 0x4c, 0x84, 0x10];
    let regs = RegisterSnapshot::default()
        .with(Gpr::RSP, 0xdead_beef_ffff_fff0)
        .with(Gpr::RAX, 0xffff_ffff_0000_0001);
    let bounds = BoundRegisters::new([
        [0; 2],
        [0xffff_ffff_0000_1000, !0x0000_0000_0000_1fffu64],
        [0; 2],
        [0; 2],
    ]);
    let report = build_report(C32, &bytes, &regs, &bounds).unwrap();
    // 0xfffffff0 + 4 + 0x10 wraps at 2^32.
    assert_eq!(report.address, 0x4);
    assert_eq!((report.lower, report.upper), (0x1000, 0x1fff));
}

#[test]
fn bound_registers_from_xsave() {
    let mut component = [0u8; 64];
    for (i, byte) in component.iter_mut().enumerate() {
        *byte = i as u8;
    }
    // A whole XSAVE image: the registers when XSTATE_BV marks component 3
    // in use, INIT bounds when it does not.
    let mut image = vec![0u8; 1088];
    image[960..1024].copy_from_slice(&component);
    assert_eq!(
        BoundRegisters::from_xsave(&image),
        Some(BoundRegisters::INIT)
    );
    image[512] = 1 << 3; // XSTATE_BV: BNDREGS in use.
    let bounds = BoundRegisters::from_xsave(&image).unwrap();
    assert_eq!(bounds.lower(Bnd::Bnd0), 0x0706_0504_0302_0100);
    assert_eq!(bounds.upper_stored(Bnd::Bnd0), 0x0f0e_0d0c_0b0a_0908);
    assert_eq!(bounds.upper(Bnd::Bnd0), !0x0f0e_0d0c_0b0a_0908);
    assert_eq!(bounds.lower(Bnd::Bnd3), 0x3736_3534_3332_3130);
    assert_eq!(bounds.upper_stored(Bnd::Bnd3), 0x3f3e_3d3c_3b3a_3938);
    assert_eq!(BoundRegisters::INIT.upper(Bnd::Bnd2), u64::MAX);
    // Too short to hold component 3 (or the header): None.
    assert_eq!(BoundRegisters::from_xsave(&image[..1023]), None);
    assert_eq!(BoundRegisters::from_xsave(&image[..1000]), None);
    assert_eq!(BoundRegisters::from_xsave(&image[..500]), None);
}
