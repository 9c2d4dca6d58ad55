/* What the MPX test programs share: a libmpx-style start-up (map a bounds directory,
 * load BNDCFGU with XRSTOR, prctl(PR_MPX_ENABLE_MANAGEMENT)), XSAVE/XRSTOR helpers,
 * and the length of a bounds instruction (for handlers that skip it). Memory-form
 * BNDCL/BNDCU/BNDCN only: QEMU 10's register forms check the wrong value (its bug C,
 * see the README). */
#ifndef MPX_TEST_H
#define MPX_TEST_H

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ucontext.h>
#include <unistd.h>

#define PR_MPX_ENABLE_MANAGEMENT 43
#define PR_MPX_DISABLE_MANAGEMENT 44
#define BD_SIZE (2UL << 30)       /* 2^28 entries of 8 bytes */
#define BT_SPAN (1UL << 20)       /* each directory entry covers 1 MiB */
#define XSTATE_BNDREGS 0x08
#define XSTATE_BNDCSR 0x10
#define BNDCSR_OFFSET 0x400       /* standard-format XSAVE offsets (CPUID 0xD) */
#define BNDREGS_OFFSET 0x3c0

struct xsave_image {
    uint8_t bytes[4096];
} __attribute__((aligned(64)));

static inline void xsave(struct xsave_image *x, uint64_t mask)
{
    __asm__ volatile("xsave64 (%0)" ::"r"(x), "a"((uint32_t)mask), "d"((uint32_t)(mask >> 32))
                     : "memory");
}

static inline void xrstor(struct xsave_image *x, uint64_t mask)
{
    __asm__ volatile("xrstor64 (%0)" ::"r"(x), "a"((uint32_t)mask), "d"((uint32_t)(mask >> 32))
                     : "memory");
}

/* Loads BNDCFGU = value (and BNDSTATUS = 0) with XRSTOR. */
static inline void load_bndcfgu(uint64_t value)
{
    static struct xsave_image x;
    memset(&x, 0, sizeof x);
    uint64_t bv = XSTATE_BNDCSR;
    memcpy(&x.bytes[512], &bv, 8);
    memcpy(&x.bytes[BNDCSR_OFFSET], &value, 8);
    xrstor(&x, XSTATE_BNDCSR);
}

/* BNDCFGU and BNDSTATUS as XSAVE reads them (0, 0 in the init state). */
static inline void read_bndcsr(uint64_t *cfg, uint64_t *status)
{
    static struct xsave_image x;
    memset(&x, 0, sizeof x);
    xsave(&x, XSTATE_BNDCSR);
    memcpy(cfg, &x.bytes[BNDCSR_OFFSET], 8);
    memcpy(status, &x.bytes[BNDCSR_OFFSET + 8], 8);
}

/* A 2 GiB bounds directory, BNDCFGU = directory | EN | BNDPRESERVE (bound registers
 * survive calls), and the kernel asked to manage the tables. Returns the directory. */
static inline uint64_t *mpx_start(void)
{
    uint64_t *bd = mmap(NULL, BD_SIZE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (bd == MAP_FAILED) {
        perror("mmap of the bounds directory");
        exit(80);
    }
    load_bndcfgu((uint64_t)bd | 3);
    if (prctl(PR_MPX_ENABLE_MANAGEMENT, 0, 0, 0, 0) != 0) {
        perror("prctl(PR_MPX_ENABLE_MANAGEMENT)");
        exit(81);
    }
    return bd;
}

/* The directory entry for data address a. */
static inline uint64_t *bd_entry(uint64_t *bd, uint64_t a)
{
    return &bd[(a >> 20) & ((1UL << 28) - 1)];
}

/* The length of the bounds instruction at p (prefix, 0F 1A/1B, ModRM, SIB, disp):
 * what a handler adds to RIP to step over a violation. 64-bit mode only. */
static inline int bound_insn_len(const uint8_t *p)
{
    int n = 0;
    while (p[n] == 0x66 || p[n] == 0xf2 || p[n] == 0xf3)
        n++;
    if ((p[n] & 0xf0) == 0x40) /* REX */
        n++;
    n += 2; /* 0F 1A / 0F 1B */
    uint8_t modrm = p[n++];
    int mod = modrm >> 6, rm = modrm & 7;
    if (mod != 3 && rm == 4) {
        uint8_t sib = p[n++];
        if (mod == 0 && (sib & 7) == 5)
            n += 4;
    }
    if (mod == 0 && rm == 5)
        n += 4;
    else if (mod == 1)
        n += 1;
    else if (mod == 2)
        n += 4;
    return n;
}

/* BNDSTATUS as the signal frame's XSAVE image holds it. */
static inline uint64_t frame_bndstatus(const ucontext_t *uc)
{
    uint64_t status;
    memcpy(&status, (const uint8_t *)uc->uc_mcontext.fpregs + BNDCSR_OFFSET + 8, 8);
    return status;
}

#endif
