/* Context switch for AArch64 (AAPCS64).
 *
 *   void acio__ctx_switch(acio_ctx_t *from, acio_ctx_t *to);   from = x0, to = x1
 *   void acio__ctx_entry(void);   first code run on a new stack: calls x20(x19)
 *
 * acio_ctx_t (src/arch/context.h, checked there with _Static_assert):
 *   0..72 x19..x28   80 x29 (fp)   88 x30 (lr: where to continue)   96 sp
 *   104..160 d8..d15 (the callee-saved low halves of v8..v15) */

    .text
    .globl  acio__ctx_switch
    .hidden acio__ctx_switch
    .type   acio__ctx_switch, %function
acio__ctx_switch:
    .cfi_startproc
    stp     x19, x20, [x0, #0]
    stp     x21, x22, [x0, #16]
    stp     x23, x24, [x0, #32]
    stp     x25, x26, [x0, #48]
    stp     x27, x28, [x0, #64]
    stp     x29, x30, [x0, #80]
    mov     x9, sp
    str     x9, [x0, #96]
    stp     d8, d9, [x0, #104]
    stp     d10, d11, [x0, #120]
    stp     d12, d13, [x0, #136]
    stp     d14, d15, [x0, #152]

    ldp     x19, x20, [x1, #0]
    ldp     x21, x22, [x1, #16]
    ldp     x23, x24, [x1, #32]
    ldp     x25, x26, [x1, #48]
    ldp     x27, x28, [x1, #64]
    ldp     x29, x30, [x1, #80]
    ldr     x9, [x1, #96]
    mov     sp, x9
    ldp     d8, d9, [x1, #104]
    ldp     d10, d11, [x1, #120]
    ldp     d12, d13, [x1, #136]
    ldp     d14, d15, [x1, #152]
    ret
    .cfi_endproc
    .size   acio__ctx_switch, .-acio__ctx_switch

    .globl  acio__ctx_entry
    .hidden acio__ctx_entry
    .type   acio__ctx_entry, %function
acio__ctx_entry:
    .cfi_startproc
    .cfi_undefined x30
    mov     x0, x19
    blr     x20
    bl      acio__ctx_returned
    brk     #0
    .cfi_endproc
    .size   acio__ctx_entry, .-acio__ctx_entry

    .section .note.GNU-stack,"",%progbits
