/* SPDX-License-Identifier: Apache-2.0 */
/*
 * compiler.h - branch hints and inlining control shared by every layer
 * (src/term, src/core, src/otp), so each says it the same way.
 */
#ifndef EP_COMPILER_H
#define EP_COMPILER_H

#if defined(__GNUC__)
#define EP_NOINLINE __attribute__((noinline))
#define EP_LIKELY(x) __builtin_expect(!!(x), 1)
#define EP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define EP_NOINLINE
#define EP_LIKELY(x) (x)
#define EP_UNLIKELY(x) (x)
#endif

#endif
