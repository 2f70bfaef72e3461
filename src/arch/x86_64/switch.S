/* SPDX-License-Identifier: Apache-2.0 */
/*
 * switch.S (x86-64, System V) - the context switch between a scheduler
 * thread and a process stack. No ucontext, no system call: only what the
 * ABI says a callee must preserve is saved, on the stack being left.
 *
 * Callee-saved by the SysV ABI: rbx, rbp, r12-r15, rsp, the x87 control
 * word and the control bits of MXCSR. Everything else is caller-saved, so
 * the C caller of ep__ctx_switch has already spilled what it needs.
 */
        .text

/* void ep__ctx_switch(void **save_sp, void *to_sp)
 * Pushes the callee-saved registers, stores rsp in *save_sp, loads to_sp
 * and pops the registers saved there, then returns on the other stack. */
        .globl  ep__ctx_switch
        .type   ep__ctx_switch, @function
ep__ctx_switch:
        .cfi_startproc
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        subq    $8, %rsp
        stmxcsr (%rsp)          /* rounding mode, exception masks */
        fnstcw  4(%rsp)         /* x87 precision and rounding */
        movq    %rsp, %rax      /* rax: the control words just saved */
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        /* Loading a control word is slow and they almost never differ:
         * load each only when the other side's differs from ours. */
        movl    (%rsp), %ecx
        cmpl    (%rax), %ecx
        je      1f
        ldmxcsr (%rsp)
1:      movzwl  4(%rsp), %ecx
        cmpw    4(%rax), %cx
        je      2f
        fldcw   4(%rsp)
2:      addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret
        .cfi_endproc
        .size   ep__ctx_switch, .-ep__ctx_switch

/* First return into a fresh stack (see ep__ctx_init): rbx holds the entry
 * function and r12 its argument. rsp is 16-byte aligned here, so the call
 * gives the callee the alignment the ABI promises. The entry never returns;
 * the trap catches a broken promise. */
        .globl  ep__ctx_start
        .type   ep__ctx_start, @function
ep__ctx_start:
        .cfi_startproc
        .cfi_undefined rip      /* the outermost frame: unwinders stop here */
        movq    %r12, %rdi
        callq   *%rbx
        ud2
        .cfi_endproc
        .size   ep__ctx_start, .-ep__ctx_start

        .section .note.GNU-stack,"",@progbits
