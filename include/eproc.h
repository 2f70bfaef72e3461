/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eproc.h - the Erlang/Elixir process model as a C library.
 *
 * The public face, one header per concern:
 *   eproc/error.h    negative error codes
 *   eproc/term.h     terms, builder, text, ETF, order, patterns
 *   eproc/process.h  processes, messages, links, monitors, names, timers
 *   eproc/otp.h      OTP behaviours: gen_server, supervisor, Task, Agent...
 */
#ifndef EPROC_H
#define EPROC_H

#define EPROC_VERSION_MAJOR 0
#define EPROC_VERSION_MINOR 1

#include "eproc/error.h"
#include "eproc/term.h"
#include "eproc/process.h"
#include "eproc/otp.h"

#endif
