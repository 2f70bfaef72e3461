/* SPDX-License-Identifier: Apache-2.0 */
/*
 * platform.h - the operating-system services the runtime needs, behind one
 * small interface: parking a thread on a word (futex), monotonic time,
 * reserving and protecting memory, counting CPUs. One backend file per OS
 * (os_linux.c); common code never tests for the OS itself.
 */
#ifndef EP_PLATFORM_H
#define EP_PLATFORM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Blocks while *word == expect (spurious returns allowed). */
void ep__os_wait(_Atomic uint32_t *word, uint32_t expect);
/* Like ep__os_wait, at most until the monotonic deadline (ns). */
void ep__os_wait_until(_Atomic uint32_t *word, uint32_t expect, uint64_t deadline_ns);
/* Wakes up to n threads blocked on word. */
void ep__os_wake(_Atomic uint32_t *word, int n);

uint64_t ep__os_now_ns(void);                 /* monotonic clock */
/* The monotonic clock read cheaply: never earlier than ep__os_now_ns, at
 * most a few ms later. For deadlines that may be a little late. */
uint64_t ep__os_now_late_ns(void);
int ep__os_ncpu(void);                        /* CPUs this process may use */

/* Reserves n bytes of read-write memory that costs nothing until touched;
 * NULL on failure. */
void *ep__os_reserve(size_t n);
void ep__os_release(void *p, size_t n);
/* n bytes (a power of two, many pages) aligned to n; NULL on failure.
 * populate: their pages are made present at once (one system call, not a
 * fault per page) where the kernel can. Freed with ep__os_release. */
void *ep__os_map_aligned(size_t n, bool populate);
int ep__os_protect_none(void *p, size_t n);   /* 0 or -1 */
void ep__os_discard(void *p, size_t n);       /* give the pages back, keep the range */
size_t ep__os_page_size(void);
long ep__os_rss_bytes(void);                  /* resident set size of the process */
int ep__os_tid(void);                         /* the calling thread's kernel id */
/* Whether thread tid of this process is blocked in the kernel (sleeping). */
bool ep__os_thread_blocked(int tid);

/* An asymmetric fence (membarrier): ep__os_heavy_fence makes every thread
 * of the process that is running execute a full memory barrier, so that
 * the other side of a Dekker handshake needs only a compiler barrier.
 * init returns false where the kernel cannot do it (then do not rely on
 * it); heavy_fence returns false if it failed. */
bool ep__os_heavy_fence_init(void);
bool ep__os_heavy_fence(void);

#endif
