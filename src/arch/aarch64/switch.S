/* SPDX-License-Identifier: Apache-2.0 */
/*
 * switch.S (AArch64, AAPCS64) - the context switch between a scheduler
 * thread and a process stack. No ucontext, no system call.
 *
 * Callee-saved by AAPCS64: x19-x28, the frame pointer x29, the link
 * register x30 (our return address), sp, and the low 64 bits of v8-v15
 * (d8-d15). FPCR (rounding mode, flush-to-zero) is process state too, as
 * MXCSR and the x87 control word are on x86-64: saved with them, a process
 * that changes its rounding mode never changes another's. The frame is 176
 * bytes, keeping sp 16-byte aligned as the architecture requires for every
 * sp-relative access.
 */
        .text

/* void ep__ctx_switch(void **save_sp, void *to_sp) */
        .globl  ep__ctx_switch
        .type   ep__ctx_switch, %function
ep__ctx_switch:
        sub     sp, sp, #176
        stp     x19, x20, [sp, #0]
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]
        stp     d8, d9, [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mrs     x9, fpcr
        str     x9, [sp, #160]
        mov     x9, sp
        str     x9, [x0]
        mov     sp, x1
        ldp     x19, x20, [sp, #0]
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]
        ldp     d8, d9, [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        ldr     x9, [sp, #160]
        msr     fpcr, x9
        add     sp, sp, #176
        ret
        .size   ep__ctx_switch, .-ep__ctx_switch

/* First return into a fresh stack: x19 holds the entry, x20 its argument.
 * x29 = 0 ends the frame chain. The entry never returns. */
        .globl  ep__ctx_start
        .type   ep__ctx_start, %function
ep__ctx_start:
        mov     x0, x20
        mov     x29, #0
        blr     x19
        brk     #0
        .size   ep__ctx_start, .-ep__ctx_start

        .section .note.GNU-stack,"",%progbits
