/* SPDX-License-Identifier: Apache-2.0 */
/*
 * error.c - names and messages for the C-level error codes (eproc/error.h).
 */
#include "eproc/error.h"

const char *ep_err_name(int err) {
  switch (err) {
#define X(name, val, msg) case val: return "EP_" #name;
    EP_ERRNO_MAP(X)
#undef X
  case 0: return "EP_OK";
  default: return "EP_UNKNOWN";
  }
}

const char *ep_strerror(int err) {
  switch (err) {
#define X(name, val, msg) case val: return msg;
    EP_ERRNO_MAP(X)
#undef X
  case 0: return "success";
  default: return "unknown error";
  }
}
