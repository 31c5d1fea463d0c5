/* Coroutine stacks.
 *
 * Stacks are carved from slabs: one mmap of SLAB_STACKS slots, each slot a guard area of
 * ACIO_STACK_GUARD bytes (256 KiB) followed by the usable stack, with this stack's
 * acio_stack_t at the very top (the top page is the first one a coroutine touches, so the
 * bookkeeping costs no extra page). Mappings are MAP_NORESERVE and never use transparent
 * huge pages, so an idle task costs only the pages its stack really touched; the guard
 * areas cost address space only.
 *
 * Guard areas: a slab's guard areas are made PROT_NONE while the process-wide budget
 * lasts. Every PROT_NONE area splits a mapping, and Linux caps mappings per process at
 * vm.max_map_count (65530 by default, which we may not raise), so a million guarded
 * stacks are impossible. The budget is (max_map_count - 16384) / 2 guards (about 24,500
 * stacks by default). Slabs carved after it is spent have no guard areas: the
 * coroutine layer checks at every switch that the stack pointer stayed inside the stack
 * and that the 64-byte zero canary just below it was not written (see
 * acio__stack_canary_damaged()). That canary is the top of the slot below, a page that
 * is resident anyway: reading an untouched page instead would cost a page per task.
 *
 * Pools are per thread (no lock on the spawn path). Stacks freed beyond POOL_KEEP are
 * returned to the kernel with MADV_DONTNEED but stay mapped for reuse. A thread's pool
 * goes to a global list when the thread exits. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef ACIO_HAVE_VALGRIND
#include <valgrind/valgrind.h>
#endif

#include "internal.h"
#include "stack.h"

#define SLAB_STACKS 64
#define POOL_SIZES  4
#define POOL_KEEP   256

typedef struct {
    size_t size;
    acio_stack_t *free;
    size_t nfree;
} pool_t;

static __thread pool_t tls_pools[POOL_SIZES];
static __thread bool tls_registered;

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static acio_stack_t *global_free; /* stacks of exited threads, any size */
static pthread_key_t exit_key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static size_t page_size;
static size_t default_size = ACIO_STACK_DEFAULT;

static atomic_long guard_budget;
static atomic_size_t stat_total, stat_free, stat_guarded;

static void thread_exit(void *unused);

static void init_once(void)
{
    page_size = (size_t)sysconf(_SC_PAGESIZE);
    long max_maps = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%ld", &max_maps) != 1)
            max_maps = 65530;
        fclose(f);
    }
    long budget = (max_maps - 16384) / 2;
    atomic_store(&guard_budget, budget > 0 ? budget : 0);
    pthread_key_create(&exit_key, thread_exit);
}

size_t acio__stack_round(size_t size)
{
    pthread_once(&once, init_once);
    if (size == 0)
        size = default_size;
    if (size > ACIO_STACK_MAX)
        return 0; /* callers reject it; rounding it up would wrap around */
    return (size + page_size - 1) & ~(page_size - 1);
}

int acio_coro_set_default_stack_size(size_t size)
{
    if (size == 0)
        size = ACIO_STACK_DEFAULT;
    if (size < ACIO_STACK_MIN || size > ACIO_STACK_MAX)
        return -EINVAL;
    default_size = size;
    return 0;
}

size_t acio_coro_default_stack_size(void)
{
    return acio__stack_round(0);
}

void acio_stack_set_guard_budget(size_t areas)
{
    pthread_once(&once, init_once);
    atomic_store(&guard_budget, (long)areas);
}

void acio_stack_stats(acio_stack_stats_t *out)
{
    pthread_once(&once, init_once);
    out->stacks_total = atomic_load(&stat_total);
    out->stacks_free = atomic_load(&stat_free);
    out->stacks_guarded = atomic_load(&stat_guarded);
    long b = atomic_load(&guard_budget);
    out->guard_budget = b > 0 ? (size_t)b : 0;
}

static pool_t *pool_for(size_t size)
{
    for (int i = 0; i < POOL_SIZES; i++)
        if (tls_pools[i].size == size)
            return &tls_pools[i];
    for (int i = 0; i < POOL_SIZES; i++)
        if (tls_pools[i].size == 0) {
            tls_pools[i].size = size;
            return &tls_pools[i];
        }
    return NULL; /* more distinct sizes than pools: such stacks go to the global list */
}

static void push(pool_t *p, acio_stack_t *s)
{
    s->next_free = p->free;
    p->free = s;
    p->nfree++;
}

/* Place the stack struct at the top of a slot, below the canary bytes that belong to the
 * slot above. */
static acio_stack_t *init_slot(char *lo, char *top, size_t pool_size, bool guarded)
{
    size_t meta = (sizeof(acio_stack_t) + 63) & ~(size_t)63;
    acio_stack_t *s = (acio_stack_t *)(top - ACIO_STACK_CANARY_BYTES - meta);
    s->lo = lo;
    s->hi = (char *)s;
    s->size = (size_t)(s->hi - s->lo);
    s->pool_size = pool_size;
    s->guarded = guarded;
#ifdef ACIO_HAVE_VALGRIND
    VALGRIND_STACK_REGISTER(s->lo, s->hi);
#endif
    return s;
}

/* Two layouts. Guarded: [guard area][stack] per slot, the guard made PROT_NONE. Once the
 * guard budget cannot cover a whole slab: [canary page][stack][stack]..., each stack's
 * canary being the top bytes of the slot below it. */
static int carve_slab(pool_t *p, size_t size)
{
    bool guarded = false;
    long b = atomic_load(&guard_budget);
    while (b >= SLAB_STACKS && !guarded)
        guarded = atomic_compare_exchange_weak(&guard_budget, &b, b - SLAB_STACKS);
    size_t slot = guarded ? size + ACIO_STACK_GUARD : size;
    size_t len = guarded ? slot * SLAB_STACKS : page_size + slot * SLAB_STACKS;
    char *mem =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) {
        if (guarded)
            atomic_fetch_add(&guard_budget, SLAB_STACKS);
        return -errno;
    }
#ifdef MADV_NOHUGEPAGE
    madvise(mem, len, MADV_NOHUGEPAGE);
#endif
    char *first = guarded ? mem : mem + page_size;
    /* Push in reverse so the lowest slot is handed out first. */
    for (int i = SLAB_STACKS - 1; i >= 0; i--) {
        char *base = first + (size_t)i * slot;
        bool g = guarded && mprotect(base, ACIO_STACK_GUARD, PROT_NONE) == 0;
#ifdef MADV_POPULATE_WRITE
        /* Every stack's top page is written now and touched by its first task anyway;
         * populating it costs far less than the page fault would on a VM. */
        madvise(base + slot - page_size, page_size, MADV_POPULATE_WRITE);
#endif
        if (g)
            atomic_fetch_add(&stat_guarded, 1);
        push(p, init_slot(guarded ? base + ACIO_STACK_GUARD : base, base + slot, size, g));
    }
    atomic_fetch_add(&stat_total, SLAB_STACKS);
    atomic_fetch_add(&stat_free, SLAB_STACKS);
    return 0;
}

acio_stack_t *acio__stack_get(size_t size)
{
    size = acio__stack_round(size);
    if (size == 0) {
        errno = EINVAL;
        return NULL;
    }
    if (!tls_registered) {
        tls_registered = true;
        pthread_setspecific(exit_key, (void *)1);
    }
    pool_t *p = pool_for(size);
    if (!p) {
        errno = ENOMEM;
        return NULL;
    }
    if (ACIO_UNLIKELY(!p->free)) {
        /* Take matching stacks left behind by exited threads before mapping more. */
        pthread_mutex_lock(&global_lock);
        for (acio_stack_t **pp = &global_free; *pp && p->nfree < SLAB_STACKS;) {
            acio_stack_t *s = *pp;
            if (s->pool_size == size) {
                *pp = s->next_free;
                push(p, s);
            } else {
                pp = &s->next_free;
            }
        }
        pthread_mutex_unlock(&global_lock);
        if (!p->free) {
            int rc = carve_slab(p, size);
            if (rc < 0) {
                errno = -rc;
                return NULL;
            }
        }
    }
    acio_stack_t *s = p->free;
    p->free = s->next_free;
    p->nfree--;
    atomic_fetch_sub_explicit(&stat_free, 1, memory_order_relaxed);
    return s;
}

void acio__stack_put(acio_stack_t *s)
{
    pool_t *p = pool_for(s->pool_size);
    atomic_fetch_add_explicit(&stat_free, 1, memory_order_relaxed);
    if (!p) {
        pthread_mutex_lock(&global_lock);
        s->next_free = global_free;
        global_free = s;
        pthread_mutex_unlock(&global_lock);
        return;
    }
    if (p->nfree >= POOL_KEEP) {
        /* Give the touched pages back; keep the top page, which holds this struct. */
        char *top_page = (char *)((uintptr_t)s & ~(uintptr_t)(page_size - 1));
        if (top_page > s->lo)
            madvise(s->lo, (size_t)(top_page - s->lo), MADV_DONTNEED);
    }
    push(p, s);
}

static void thread_exit(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&global_lock);
    for (int i = 0; i < POOL_SIZES; i++) {
        while (tls_pools[i].free) {
            acio_stack_t *s = tls_pools[i].free;
            tls_pools[i].free = s->next_free;
            s->next_free = global_free;
            global_free = s;
        }
        tls_pools[i].nfree = 0;
    }
    pthread_mutex_unlock(&global_lock);
}
