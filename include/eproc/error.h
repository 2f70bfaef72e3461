/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eproc/error.h - C-level error codes.
 *
 * Every eproc function that can fail returns 0 (or a non-negative value) on
 * success and one of the negative codes below on failure; there is no errno
 * and no last-error global (a process may resume on another thread).
 * Process deaths are not C errors: they are Erlang reason terms carried by
 * exit signals (see eproc/process.h).
 */
#ifndef EPROC_ERROR_H
#define EPROC_ERROR_H

/* X(NAME, value, message): one table makes the enum, ep_err_name and ep_strerror. */
#define EP_ERRNO_MAP(X)                                                         \
  X(EINVAL,    -1,  "invalid argument")                                         \
  X(ENOMEM,    -2,  "out of memory")                                            \
  X(EFORMAT,   -3,  "bad format string or format argument")                     \
  X(EPARSE,    -4,  "malformed term text")                                      \
  X(ETRUNC,    -5,  "external term data truncated")                             \
  X(EBADTAG,   -6,  "unknown or unsupported external term tag")                 \
  X(EBADVER,   -7,  "bad external term format version byte")                    \
  X(EDEPTH,    -8,  "term nested too deeply")                                   \
  X(EUTF8,     -9,  "invalid UTF-8 in atom")                                    \
  X(EATOMLEN,  -10, "atom longer than 255 characters")                          \
  X(ETOOBIG,   -11, "length or size beyond the allowed limit")                  \
  X(EZLIB,     -12, "compressed term data is corrupt or lies about its size")   \
  X(ETRAILING, -13, "trailing bytes after the external term")                   \
  X(ELOCALFUN, -14, "a local function term cannot leave this node")             \
  X(EBADTERM,  -15, "term is not of the expected type")                         \
  X(ERANGE,    -16, "value out of range")                                       \
  X(ESYSLIMIT, -17, "system limit reached")                                     \
  X(ENOPROC,   -18, "no such process")                                          \
  X(EBADARG,   -19, "bad argument")                                             \
  X(ETIMEOUT,  -20, "timed out")                                                \
  X(ENOTPROC,  -21, "caller is not an eproc process")                           \
  X(EEXIST,    -22, "already exists")                                           \
  X(ENOTFOUND, -23, "not found")                                                \
  X(EBUSY,     -24, "busy")                                                     \
  X(ESTATE,    -25, "operation not allowed in the current state")             \
  X(EDUPKEY,   -26, "duplicate key in an external term map")                    \
  X(EEXITED,   -27, "the process exited: its reason term tells why")

enum ep_errno {
#define EP__ERR_ENUM(name, val, msg) EP_##name = (val),
  EP_ERRNO_MAP(EP__ERR_ENUM)
#undef EP__ERR_ENUM
  EP_OK = 0
};

/* Returns the code's name ("EP_EINVAL"), or "EP_UNKNOWN". Never NULL. */
const char *ep_err_name(int err);
/* Returns a one-line human message for the code. Never NULL. */
const char *ep_strerror(int err);

#endif
