/* Bounds tables freed by munmap, the way Linux's MPX selftest checks it: allocations
 * of whole MiBs at 1 MiB-aligned hint addresses (never MAP_FIXED), bounds stored
 * across each (so each owns its tables), random frees, and once everything is
 * unmapped: no valid directory entry and no non-zero table entry left, found by
 * reading the directory with mincore to skip what was never touched, and no [mpx]
 * line left in /proc/self/maps. Along the way a brk shrink, an mremap and a
 * MAP_FIXED replacement free tables too. Deterministic output. */
#include "mpx.h"

static int failures;

static void check(int ok, const char *what)
{
    printf("mpxunmap: %s: %s\n", what, ok ? "ok" : "FAILED");
    failures += !ok;
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Stores bnd0 = [p, p + 7] for pointers every `step` bytes of [start, end). */
static void cover(uint64_t start, uint64_t end, uint64_t step)
{
    for (uint64_t p = start; p < end; p += step) {
        __asm__ volatile("bndmk (%0,%1,1), %%bnd0\n"
                         "bndstx %%bnd0, (%0,%0,1)" ::"r"(p),
                         "r"(7UL)
                         : "memory");
    }
}

/* Valid directory entries, and non-zero table entries in the tables they name,
 * scanning the directory (for data below 512 GiB, as the selftest does) in 256 KiB
 * chunks and skipping chunks mincore says were never touched. */
static void census(uint64_t *bd, long *valid, long *table_entries)
{
    const uint64_t chunk = 256 << 10;
    static unsigned char vec[(256 << 10) / 4096];
    *valid = *table_entries = 0;
    for (uint64_t off = 0; off < (4UL << 20); off += chunk) {
        uint8_t *at = (uint8_t *)bd + off;
        if (mincore(at, chunk, vec) != 0) {
            perror("mincore");
            exit(82);
        }
        int touched = 0;
        for (size_t i = 0; i < sizeof vec; i++)
            touched |= vec[i] & 1;
        if (!touched)
            continue;
        for (uint64_t *e = (uint64_t *)at; e < (uint64_t *)(at + chunk); e++) {
            if (*e == 0)
                continue;
            (*valid)++;
            /* Only the table's resident pages can hold entries. */
            uint8_t *table = (uint8_t *)(*e & ~7UL);
            static unsigned char pages[(4 << 20) / 4096];
            if (mincore(table, 4 << 20, pages) != 0) {
                printf("mpxunmap: entry %#lx names no mapping\n", (unsigned long)*e);
                exit(84);
            }
            for (size_t page = 0; page < sizeof pages; page++) {
                if (!(pages[page] & 1))
                    continue;
                const uint64_t *w = (const uint64_t *)(table + page * 4096);
                for (int i = 0; i < 4096 / 8; i += 4)
                    *table_entries += (w[i] | w[i + 1] | w[i + 2] | w[i + 3]) != 0;
            }
        }
    }
}

static int mpx_lines(void)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, maps)) {
        unsigned long start, end;
        char rest[200];
        if (sscanf(line, "%lx-%lx%199s", &start, &end, rest) != 3) {
            printf("mpxunmap: unparsable maps line: %s", line);
            exit(83);
        }
        n += strstr(line, "[mpx]") != NULL;
    }
    fclose(maps);
    return n;
}

#define SLOTS 32
static struct {
    uint64_t at, len;
} slot[SLOTS];
static uint64_t last = 0x100000;

/* A 1 MiB-aligned allocation of `len` bytes by hint, as the selftest's allocator. */
static uint64_t alloc(uint64_t len)
{
    uint64_t try_at = last + BT_SPAN;
    for (int tries = 0; tries < 100000; tries++) {
        void *p = mmap((void *)try_at, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return 0;
        if ((uint64_t)p == try_at) {
            last = try_at + len;
            return try_at;
        }
        munmap(p, len);
        try_at += BT_SPAN;
        if (try_at >= 0x10000000000UL)
            try_at = 0x100000;
    }
    return 0;
}

int main(void)
{
    uint64_t *bd = mpx_start();
    long valid, entries;

    int allocations = 0, frees = 0, hint_misses = 0;
    for (int round = 0; round < 400; round++) {
        int s = next() % SLOTS;
        if (slot[s].at) {
            munmap((void *)slot[s].at, slot[s].len);
            /* Freed at once: every directory entry of its MiBs is zero again. */
            int left = 0;
            for (uint64_t mb = slot[s].at; mb < slot[s].at + slot[s].len; mb += BT_SPAN)
                left += *bd_entry(bd, mb) != 0;
            if (left) {
                printf("mpxunmap: %d entries left after freeing %#lx\n", left,
                       (unsigned long)slot[s].at);
                failures++;
            }
            slot[s].at = 0;
            frees++;
            continue;
        }
        uint64_t len = (1 + next() % 4) * BT_SPAN;
        uint64_t at = alloc(len);
        if (!at) {
            hint_misses++;
            continue;
        }
        cover(at, at + len, 4096 * (1 + next() % 64));
        slot[s].at = at;
        slot[s].len = len;
        allocations++;
    }
    printf("mpxunmap: %d allocations, %d frees\n", allocations, frees);
    census(bd, &valid, &entries);
    check(valid > 0 && entries > 0 && mpx_lines() == valid,
          "while allocations live: tables in the directory, each an [mpx] mapping");
    for (int s = 0; s < SLOTS; s++)
        if (slot[s].at)
            munmap((void *)slot[s].at, slot[s].len);
    census(bd, &valid, &entries);
    check(valid == 0 && entries == 0, "everything unmapped: no directory entry, no table entry");
    check(mpx_lines() == 0, "no [mpx] line left in /proc/self/maps");

    /* Other ways memory goes: a brk shrink, mremap's old range, MAP_FIXED. */
    char *heap = sbrk(0);
    char *top = (char *)(((uint64_t)heap + BT_SPAN - 1) & ~(BT_SPAN - 1)) + 2 * BT_SPAN;
    check(brk(top) == 0, "brk up to two MiBs past an MiB boundary");
    cover((uint64_t)top - 2 * BT_SPAN, (uint64_t)top, 4096);
    check(*bd_entry(bd, (uint64_t)top - BT_SPAN) & 1, "stores into the heap got a table");
    check(brk(top - 2 * BT_SPAN) == 0 && *bd_entry(bd, (uint64_t)top - BT_SPAN) == 0,
          "brk shrink freed it");
    uint64_t m = alloc(2 * BT_SPAN);
    cover(m, m + 2 * BT_SPAN, 4096);
    void *moved = mremap((void *)m, 2 * BT_SPAN, 3 * BT_SPAN, MREMAP_MAYMOVE | MREMAP_FIXED,
                         (void *)0x30000000000UL);
    check(moved == (void *)0x30000000000UL && *bd_entry(bd, m) == 0 &&
              *bd_entry(bd, m + BT_SPAN) == 0,
          "mremap: the old range's tables freed");
    munmap(moved, 3 * BT_SPAN);
    uint64_t f = alloc(BT_SPAN);
    cover(f, f + BT_SPAN, 4096);
    void *fixed = mmap((void *)f, BT_SPAN, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    check(fixed == (void *)f && *bd_entry(bd, f) == 0, "MAP_FIXED over it: its table freed");
    munmap(fixed, BT_SPAN);
    census(bd, &valid, &entries);
    check(valid == 0 && entries == 0 && mpx_lines() == 0, "and nothing left at the end");
    printf("mpxunmap: %d failures\n", failures);
    return failures != 0;
}
