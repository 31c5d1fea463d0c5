/* Context switch for x86-64, System V ABI.
 *
 *   void acio__ctx_switch(acio_ctx_t *from, acio_ctx_t *to);   from = %rdi, to = %rsi
 *   void acio__ctx_entry(void);   first code run on a new stack: calls r13(r12)
 *
 * acio_ctx_t (src/arch/context.h, checked there with _Static_assert):
 *   0 rip   8 rsp   16 rbx   24 rbp   32 r12   40 r13   48 r14   56 r15
 *   64 mxcsr (4 bytes)   68 x87 control word (2 bytes)
 * Only callee-saved registers are kept; MXCSR and the x87 control word are callee-saved
 * too (the ABI says their control bits are preserved across calls). */

    .text
    .globl  acio__ctx_switch
    .hidden acio__ctx_switch
    .type   acio__ctx_switch, @function
acio__ctx_switch:
    .cfi_startproc
    movq    (%rsp), %rax
    leaq    8(%rsp), %rcx
    movq    %rax, 0(%rdi)
    movq    %rcx, 8(%rdi)
    movq    %rbx, 16(%rdi)
    movq    %rbp, 24(%rdi)
    movq    %r12, 32(%rdi)
    movq    %r13, 40(%rdi)
    movq    %r14, 48(%rdi)
    movq    %r15, 56(%rdi)
    stmxcsr 64(%rdi)
    fnstcw  68(%rdi)

    movq    8(%rsi), %rsp
    movq    16(%rsi), %rbx
    movq    24(%rsi), %rbp
    movq    32(%rsi), %r12
    movq    40(%rsi), %r13
    movq    48(%rsi), %r14
    movq    56(%rsi), %r15
    /* Loading MXCSR or the x87 control word costs far more than reading them, and they
     * almost never differ between coroutines: load only what changed. */
    movl    64(%rsi), %eax
    cmpl    64(%rdi), %eax
    je      1f
    ldmxcsr 64(%rsi)
1:  movzwl  68(%rsi), %eax
    cmpw    68(%rdi), %ax
    je      2f
    fldcw   68(%rsi)
2:  jmpq    *0(%rsi)
    .cfi_endproc
    .size   acio__ctx_switch, .-acio__ctx_switch

    .globl  acio__ctx_entry
    .hidden acio__ctx_entry
    .type   acio__ctx_entry, @function
acio__ctx_entry:
    .cfi_startproc
    /* Unwinders (backtrace(), gdb) stop here: there is no caller. */
    .cfi_undefined rip
    movq    %r12, %rdi
    callq   *%r13
    /* The entry function must switch away for good; returning is a bug. */
    callq   acio__ctx_returned@PLT
    ud2
    .cfi_endproc
    .size   acio__ctx_entry, .-acio__ctx_entry

    .section .note.GNU-stack,"",@progbits
