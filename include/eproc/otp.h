/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eproc/otp.h - the OTP layer: behaviours written on the process API alone,
 * one header each. The rules are shared/spec/semantics.md R46-R79.
 */
#ifndef EPROC_OTP_H
#define EPROC_OTP_H

#include "gen_server.h"
#include "supervisor.h"
#include "task.h"
#include "agent.h"
#include "gen_statem.h"
#include "gen_event.h"
#include "application.h"
#include "ppool.h"

#endif
