/* The saved machine context of a suspended coroutine, and the switch between two.
 *
 * acio__ctx_switch() is real assembly per CPU (src/arch/x86_64.S, src/arch/aarch64.S),
 * with a ucontext fallback (src/arch/ucontext.c) chosen at build time. The struct
 * layouts below are read by the assembly at fixed offsets; the _Static_asserts keep the
 * two in step. Only callee-saved state is kept: the switch is an ordinary function call,
 * so the compiler has already saved everything else. */
#ifndef ACIO_ARCH_CONTEXT_H
#define ACIO_ARCH_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#if defined(ACIO_CONTEXT_ucontext)
#include <ucontext.h>
typedef struct acio_ctx_s {
    ucontext_t uc;
} acio_ctx_t;
#elif defined(__x86_64__)
typedef struct acio_ctx_s {
    void *rip;      /* 0: where to continue */
    void *rsp;      /* 8 */
    void *rbx;      /* 16 */
    void *rbp;      /* 24 */
    void *r12;      /* 32: entry argument on the first switch */
    void *r13;      /* 40: entry function on the first switch */
    void *r14;      /* 48 */
    void *r15;      /* 56 */
    uint32_t mxcsr; /* 64: SSE control/status (rounding mode is callee-saved) */
    uint16_t fpucw; /* 68: x87 control word */
} acio_ctx_t;
_Static_assert(offsetof(acio_ctx_t, rip) == 0, "x86_64.S offsets");
_Static_assert(offsetof(acio_ctx_t, rsp) == 8, "x86_64.S offsets");
_Static_assert(offsetof(acio_ctx_t, r12) == 32, "x86_64.S offsets");
_Static_assert(offsetof(acio_ctx_t, r15) == 56, "x86_64.S offsets");
_Static_assert(offsetof(acio_ctx_t, mxcsr) == 64, "x86_64.S offsets");
_Static_assert(offsetof(acio_ctx_t, fpucw) == 68, "x86_64.S offsets");
#elif defined(__aarch64__)
typedef struct acio_ctx_s {
    void *x[10];   /* 0: x19..x28 (x19 = entry argument, x20 = entry function at first) */
    void *fp;      /* 80: x29 */
    void *lr;      /* 88: x30, where to continue */
    void *sp;      /* 96 */
    uint64_t d[8]; /* 104: d8..d15 (low halves of v8..v15 are callee-saved) */
} acio_ctx_t;
_Static_assert(offsetof(acio_ctx_t, fp) == 80, "aarch64.S offsets");
_Static_assert(offsetof(acio_ctx_t, lr) == 88, "aarch64.S offsets");
_Static_assert(offsetof(acio_ctx_t, sp) == 96, "aarch64.S offsets");
_Static_assert(offsetof(acio_ctx_t, d) == 104, "aarch64.S offsets");
#else
#error "no context switch for this CPU: configure with -DACIO_CONTEXT=ucontext"
#endif

typedef void (*acio_ctx_entry_fn)(void *arg);

/* Save the running context into *from and continue *to. Returns when something switches
 * back to *from. */
void acio__ctx_switch(acio_ctx_t *from, acio_ctx_t *to);
/* Prepare *ctx so the first switch to it calls entry(arg) on the stack [lo, hi). entry
 * must never return (acio__ctx_returned() aborts if it does). */
void acio__ctx_make(acio_ctx_t *ctx, void *lo, void *hi, acio_ctx_entry_fn entry, void *arg);
_Noreturn void acio__ctx_returned(void);

#endif
