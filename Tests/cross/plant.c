/* A planted dependency for the Cortex-M4 link check (Tests/cross/check_cm4.sh): built into
 * the core library of the sample firmware with MOTE_CM4_PLANT=malloc|printf|syscall. The
 * firmware link must then FAIL, proving that the image has no heap, no stdio and no
 * syscalls to fall back on. Never part of a real build. */
#include <stddef.h>
#if defined(MOTE_PLANT_malloc)
#include <stdlib.h>
#elif defined(MOTE_PLANT_printf)
#include <stdio.h>
#elif defined(MOTE_PLANT_syscall)
#include <time.h>
#endif

void mote_planted_dependency(void);

void mote_planted_dependency(void)
{
#if defined(MOTE_PLANT_malloc)
    void *volatile p = malloc(32);
    free(p);
#elif defined(MOTE_PLANT_printf)
    printf("planted %d\n", 1);
#elif defined(MOTE_PLANT_syscall)
    volatile time_t t = time(NULL);
    (void)t;
#endif
}
