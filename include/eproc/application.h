/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eproc/application.h - applications: a named unit whose whole tree hangs
 * from one top supervisor, started and stopped as a whole, several in a
 * given order. Each running application has a master process (as OTP's
 * application_master) that owns the top supervisor: stopping the
 * application stops the tree in reverse start order (R63), and a top
 * supervisor that gives up (R61) ends the application.
 */
#ifndef EPROC_APPLICATION_H
#define EPROC_APPLICATION_H

#include "supervisor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ep_application {
  const char *name;
  ep_start_fn start;            /* starts the top supervisor, linked to the caller */
  ep_term args;                 /* borrowed, copied at start; NULL = [] */
} ep_application;

/* [process, blocks] Starts the application: 0; EP_EEXIST if it runs
 * already; EP_EEXITED with *reason (may be NULL) if its start failed. */
int ep_application_start(const ep_application *app, ep_term *reason);
/* [process, blocks] Stops the tree cleanly and waits: 0 or EP_ENOTFOUND. */
int ep_application_stop(const char *name);
/* [process, blocks] Starts apps in order; on a failure stops those already
 * started, in reverse order, and returns the failure with *reason (may be
 * NULL) a new term: free it with ep_term_free. */
int ep_application_start_all(const ep_application *const *apps, size_t n, ep_term *reason);
/* [process, blocks] Stops apps in reverse order; returns 0. */
int ep_application_stop_all(const ep_application *const *apps, size_t n);
/* [any] Is it running. [process, blocks] Its top supervisor (EP_PID_NONE
 * if not running). */
bool ep_application_running(const char *name);
ep_pid ep_application_top(const char *name);

#ifdef __cplusplus
}
#endif
#endif
