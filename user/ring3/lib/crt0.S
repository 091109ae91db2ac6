/* A ring-3 program's first instructions. The kernel (kernel/process.c)
 * irets here with esp -> argc, argv[0], ..., NULL; main's return value
 * becomes the exit code. */
    .section .text.entry, "ax"
    .globl _start
    .type _start, @function
_start:
    xorl %ebp, %ebp             /* backtraces stop here */
    movl (%esp), %eax           /* argc */
    leal 4(%esp), %edx          /* argv */
    pushl %edx
    pushl %eax
    call main
    pushl %eax
    call exit
1:  jmp 1b
    .size _start, . - _start
