/* Portable fallback context switch on ucontext (slower: swapcontext saves the signal
 * mask with a system call). Chosen with -DACIO_CONTEXT=ucontext or on CPUs without an
 * assembly switch. */
#include <stdint.h>

#include "arch/context.h"

static void trampoline(unsigned hi, unsigned lo, unsigned fhi, unsigned flo)
{
    void *arg = (void *)(((uintptr_t)hi << 32) | lo);
    acio_ctx_entry_fn fn = (acio_ctx_entry_fn)(((uintptr_t)fhi << 32) | flo);
    fn(arg);
    acio__ctx_returned();
}

void acio__ctx_make(acio_ctx_t *ctx, void *lo, void *hi, acio_ctx_entry_fn entry, void *arg)
{
    getcontext(&ctx->uc);
    ctx->uc.uc_stack.ss_sp = lo;
    ctx->uc.uc_stack.ss_size = (size_t)((char *)hi - (char *)lo);
    ctx->uc.uc_link = NULL;
    uintptr_t a = (uintptr_t)arg, f = (uintptr_t)entry;
    makecontext(&ctx->uc, (void (*)(void))trampoline, 4, (unsigned)(a >> 32), (unsigned)a,
                (unsigned)(f >> 32), (unsigned)f);
}

void acio__ctx_switch(acio_ctx_t *from, acio_ctx_t *to)
{
    swapcontext(&from->uc, &to->uc);
}
