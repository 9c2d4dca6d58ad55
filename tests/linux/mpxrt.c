/* A libmpx-style runtime on the kernel's MPX management: the program maps its own
 * 2 GiB bounds directory, loads BNDCFGU with XRSTOR, enables management with
 * prctl(43), and handles bound violations in a SIGSEGV handler (SA_SIGINFO |
 * SA_NODEFER, as libmpx installs it) that checks si_code (SEGV_BNDERR), si_addr,
 * si_lower and si_upper, the trap number, and BNDSTATUS from the frame's XSAVE image,
 * counts the violation and steps over the instruction.
 *
 * Then random rounds of BNDMK, BNDCL, BNDCU, BNDCN, BNDMOV (register and memory),
 * BNDSTX and BNDLDX run against a software shadow of the four bound registers and of
 * the bounds tables: after every operation the registers must equal the shadow, and
 * the #BRs the handler saw must be exactly those the shadow predicted. Table
 * allocation (#BR code 2) must never reach the program. Deterministic: the same
 * output on every run. */
#include "mpx.h"

static int failures;

static void check(int ok, const char *what)
{
    printf("mpxrt: %s: %s\n", what, ok ? "ok" : "FAILED");
    failures += !ok;
}

/* ---- The shadow: lower bound and upper bound (as an address) per register. */
struct bnd {
    uint64_t lb, ub;
};
static struct bnd shadow[4];
static const struct bnd INIT = {0, ~0UL};

/* What the handler expects, and what it saw. */
static volatile struct {
    int expecting;   /* a violation is predicted for the next check */
    struct bnd bound; /* of the register the check uses */
    uint64_t addr;    /* the address it checks */
} expect;
static volatile long violations_seen, violations_unexpected, handler_errors;

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    uint64_t status = frame_bndstatus(uc);
    if (sig != SIGSEGV || uc->uc_mcontext.gregs[REG_TRAPNO] != 5) {
        printf("mpxrt: a signal that is not a #BR (signal %d, trap %lld)\n", sig,
               (long long)uc->uc_mcontext.gregs[REG_TRAPNO]);
        exit(3);
    }
    if ((status & 3) == 2) {
        printf("mpxrt: #BR code 2 reached the program: the kernel should have allocated\n");
        exit(4);
    }
    violations_seen++;
    if (!expect.expecting)
        violations_unexpected++;
    else if (si->si_code != SEGV_BNDERR || (status & 3) != 1 ||
             (uint64_t)si->si_addr != expect.addr || si->si_lower != (void *)expect.bound.lb ||
             si->si_upper != (void *)expect.bound.ub) {
        if (!handler_errors++)
            printf("mpxrt: first mismatch: code %d status %#lx addr %p/%#lx lower %p/%#lx "
                   "upper %p/%#lx\n",
                   si->si_code, (unsigned long)status, si->si_addr, (unsigned long)expect.addr,
                   si->si_lower, (unsigned long)expect.bound.lb, si->si_upper,
                   (unsigned long)expect.bound.ub);
    }
    expect.expecting = 0;
    uint8_t *rip = (uint8_t *)uc->uc_mcontext.gregs[REG_RIP];
    uc->uc_mcontext.gregs[REG_RIP] += bound_insn_len(rip);
}

/* ---- The instructions, one register each (the register is in the encoding). */
#define FOR_EACH_BND(X) X(0) X(1) X(2) X(3)

#define MK(n)                                                                           \
    static void bndmk##n(uint64_t base, uint64_t last)                                   \
    {                                                                                    \
        __asm__ volatile("bndmk (%0,%1,1), %%bnd" #n ::"r"(base), "r"(last - base));     \
    }
#define CL(n)                                                                           \
    static void bndcl##n(uint64_t a)                                                     \
    {                                                                                    \
        __asm__ volatile("bndcl (%0), %%bnd" #n ::"r"(a));                                \
    }
#define CU(n)                                                                           \
    static void bndcu##n(uint64_t a)                                                     \
    {                                                                                    \
        __asm__ volatile("bndcu (%0), %%bnd" #n ::"r"(a));                                \
    }
#define CN(n)                                                                           \
    static void bndcn##n(uint64_t a)                                                     \
    {                                                                                    \
        __asm__ volatile("bndcn (%0), %%bnd" #n ::"r"(a));                                \
    }
#define TO_MEM(n)                                                                       \
    static void bndmov_to##n(uint64_t *m)                                                \
    {                                                                                    \
        __asm__ volatile("bndmov %%bnd" #n ", (%0)" ::"r"(m) : "memory");                 \
    }
#define FROM_MEM(n)                                                                     \
    static void bndmov_from##n(const uint64_t *m)                                        \
    {                                                                                    \
        __asm__ volatile("bndmov (%0), %%bnd" #n ::"r"(m) : "memory");                    \
    }
#define STX(n)                                                                          \
    static void bndstx##n(uint64_t slot, uint64_t ptr)                                   \
    {                                                                                    \
        __asm__ volatile("bndstx %%bnd" #n ", (%0,%1,1)" ::"r"(slot), "r"(ptr) : "memory"); \
    }
#define LDX(n)                                                                          \
    static void bndldx##n(uint64_t slot, uint64_t ptr)                                   \
    {                                                                                    \
        __asm__ volatile("bndldx (%0,%1,1), %%bnd" #n ::"r"(slot), "r"(ptr) : "memory");  \
    }
FOR_EACH_BND(MK) FOR_EACH_BND(CL) FOR_EACH_BND(CU) FOR_EACH_BND(CN) FOR_EACH_BND(TO_MEM)
FOR_EACH_BND(FROM_MEM) FOR_EACH_BND(STX) FOR_EACH_BND(LDX)

#define TABLE(f) {f##0, f##1, f##2, f##3}
static void (*const mk[4])(uint64_t, uint64_t) = TABLE(bndmk);
static void (*const cl[4])(uint64_t) = TABLE(bndcl);
static void (*const cu[4])(uint64_t) = TABLE(bndcu);
static void (*const cn[4])(uint64_t) = TABLE(bndcn);
static void (*const to_mem[4])(uint64_t *) = TABLE(bndmov_to);
static void (*const from_mem[4])(const uint64_t *) = TABLE(bndmov_from);
static void (*const stx[4])(uint64_t, uint64_t) = TABLE(bndstx);
static void (*const ldx[4])(uint64_t, uint64_t) = TABLE(bndldx);

/* The four registers as the CPU has them (BNDMOV to memory: lb, ~ub). */
static void actual(struct bnd out[4])
{
    uint64_t m[2];
    for (int i = 0; i < 4; i++) {
        to_mem[i](m);
        out[i].lb = m[0];
        out[i].ub = ~m[1];
    }
}

/* ---- The tables' shadow: what BNDSTX stored at each slot. */
#define SLOTS 64
static struct {
    uint64_t slot, ptr;
    struct bnd bound;
    int used;
} stored[SLOTS];

static uint64_t rng = 0x9e3779b97f4a7c15;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static long predicted, mismatches, operations, counts[8];

static void expect_check(int reg, uint64_t a, int violates)
{
    if (violates) {
        expect.bound = shadow[reg];
        expect.addr = a;
        expect.expecting = 1;
        predicted++;
    }
}

/* A SIGUSR1 handler that loads garbage into the bound registers (XRSTOR: MPX is in
 * its init state, disabled, while a handler runs); sigreturn restores the frame's. */
static void scramble(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    (void)ucv;
    static struct xsave_image x;
    memset(&x, 0, sizeof x);
    uint64_t bv = XSTATE_BNDREGS;
    memcpy(&x.bytes[512], &bv, 8);
    memset(&x.bytes[BNDREGS_OFFSET], 0x5a, 64);
    xrstor(&x, XSTATE_BNDREGS);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);

    uint64_t *bd = mpx_start();
    uint64_t cfg, status;
    read_bndcsr(&cfg, &status);
    check((cfg & 1) == 1, "prctl(PR_MPX_ENABLE_MANAGEMENT) with BNDCFGU = directory | EN");
    struct bnd now[4];
    actual(now);
    for (int i = 0; i < 4; i++)
        shadow[i] = now[i];
    check(now[0].lb == 0 && now[0].ub == ~0UL, "bound registers start INIT");

    /* The data the pointers point into, and where their bounds are stored: 8 MiB, so
     * that the slots fall in several tables (one per MiB). */
    uint64_t data = (uint64_t)mmap((void *)0x200000000, 8 << 20, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(data == 0x200000000, "data mapped at its hint");
    for (int i = 0; i < SLOTS; i++) {
        int fresh;
        do { /* distinct slots: each has a table entry of its own */
            stored[i].slot = data + (next() % (8 << 20) & ~7UL);
            fresh = 1;
            for (int j = 0; j < i; j++)
                fresh &= stored[j].slot != stored[i].slot;
        } while (!fresh);
    }

    const int rounds = 200, per_round = 50;
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < per_round; k++) {
            int op = next() % 8, reg = next() % 4, other = next() % 4;
            uint64_t base = data + (next() % (8 << 20)), len = 1 + next() % 4096;
            uint64_t a = shadow[reg].lb + (next() % 8192) - 4096;
            if (next() % 4 == 0)
                a = base + (next() % (2 * len));
            int s = next() % SLOTS;
            uint64_t ptr = stored[s].used && next() % 2 ? stored[s].ptr : base;
            uint64_t m[2];
            counts[op]++;
            switch (op) {
            case 0: /* BNDMK */
                mk[reg](base, base + len - 1);
                shadow[reg].lb = base;
                shadow[reg].ub = base + len - 1;
                break;
            case 1: /* BNDCL: below the lower bound */
                expect_check(reg, a, a < shadow[reg].lb);
                cl[reg](a);
                break;
            case 2: /* BNDCU: above the upper bound */
                expect_check(reg, a, a > shadow[reg].ub);
                cu[reg](a);
                break;
            case 3: /* BNDCN: above the upper bound as stored, not complemented */
                expect_check(reg, a, a > ~shadow[reg].ub);
                cn[reg](a);
                break;
            case 4: /* BNDMOV through memory, from one register to another */
                to_mem[reg](m);
                from_mem[other](m);
                shadow[other] = shadow[reg];
                break;
            case 5: /* BNDMOV from memory a made-up bound */
                m[0] = base;
                m[1] = ~(base + len);
                from_mem[reg](m);
                shadow[reg].lb = base;
                shadow[reg].ub = base + len;
                break;
            case 6: /* BNDSTX: the register's bounds, for pointer ptr, at slot s */
                stx[reg](stored[s].slot, ptr);
                stored[s].ptr = ptr;
                stored[s].bound = shadow[reg];
                stored[s].used = 1;
                break;
            case 7: /* BNDLDX: the bounds if the pointer matches, INIT if not */
                ldx[reg](stored[s].slot, ptr);
                shadow[reg] = stored[s].used && stored[s].ptr == ptr ? stored[s].bound : INIT;
                break;
            }
            if (expect.expecting) {
                printf("mpxrt: a predicted #BR did not come (op %d)\n", op);
                failures++;
                expect.expecting = 0;
            }
            operations++;
            actual(now);
            for (int i = 0; i < 4; i++)
                if (now[i].lb != shadow[i].lb || now[i].ub != shadow[i].ub) {
                    mismatches++;
                    shadow[i] = now[i];
                }
        }
    }
    /* Bound registers across a handler that changes them. */
    struct sigaction usr;
    memset(&usr, 0, sizeof usr);
    usr.sa_sigaction = scramble;
    usr.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &usr, NULL);
    mk[0](data, data + 99);
    mk[3](data + 7, data + 4095);
    struct bnd before[4], after[4];
    actual(before);
    raise(SIGUSR1);
    actual(after);
    check(memcmp(before, after, sizeof before) == 0 && after[0].lb == data &&
              after[3].ub == data + 4095,
          "bnd0-bnd3 unchanged across a handler that scrambled them");
    actual(shadow);

    printf("mpxrt: %ld operations in %d rounds: %ld BNDMK, %ld BNDCL, %ld BNDCU, %ld BNDCN, "
           "%ld BNDMOV reg, %ld BNDMOV mem, %ld BNDSTX, %ld BNDLDX\n",
           operations, rounds, counts[0], counts[1], counts[2], counts[3], counts[4], counts[5],
           counts[6], counts[7]);
    printf("mpxrt: %ld violations predicted, %ld seen\n", predicted, violations_seen);
    check(violations_seen == predicted && violations_unexpected == 0,
          "every #BR predicted by the shadow, and only those");
    check(handler_errors == 0,
          "each violation: SEGV_BNDERR, si_addr, si_lower, si_upper, BNDSTATUS 1 in the frame");
    check(mismatches == 0, "the bound registers equal the shadow after every operation");

    /* The tables the stores needed: one per MiB of slots, each a [mpx] mapping. */
    int spans = 0, entries = 0;
    for (uint64_t mb = data; mb < data + (8 << 20); mb += BT_SPAN) {
        int used = 0;
        for (int i = 0; i < SLOTS; i++)
            used |= stored[i].used && stored[i].slot >= mb && stored[i].slot < mb + BT_SPAN;
        spans += used;
        entries += (*bd_entry(bd, mb) & 1) != 0;
    }
    check(spans == entries && entries > 0, "one valid directory entry per MiB the stores used");
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[256];
    int mpx_lines = 0;
    while (fgets(line, sizeof line, maps))
        mpx_lines += strstr(line, "[mpx]") != NULL;
    fclose(maps);
    check(mpx_lines == entries, "each table is an [mpx] mapping in /proc/self/maps");
    munmap((void *)data, 8 << 20);
    entries = 0;
    for (uint64_t mb = data; mb < data + (8 << 20); mb += BT_SPAN)
        entries += *bd_entry(bd, mb) != 0;
    maps = fopen("/proc/self/maps", "r");
    mpx_lines = 0;
    while (fgets(line, sizeof line, maps))
        mpx_lines += strstr(line, "[mpx]") != NULL;
    fclose(maps);
    check(entries == 0 && mpx_lines == 0, "munmap of the data: entries cleared, tables gone");
    check(prctl(PR_MPX_DISABLE_MANAGEMENT, 0, 0, 0, 0) == 0, "prctl(PR_MPX_DISABLE_MANAGEMENT)");
    printf("mpxrt: %d failures\n", failures);
    return failures != 0;
}
