/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eproc/term.h - Erlang terms in C: the values every message is made of.
 *
 * A term is an immutable, position-independent byte encoding kept in one
 * contiguous block; `ep_term` points at its first byte. Any subterm of a term
 * is itself a complete term (a contiguous byte range inside its parent), so
 * copying any term is one allocation and one memcpy of ep_term_size() bytes,
 * and an `ep_term` pointing into a block stays valid exactly as long as the
 * block does.
 *
 * Ownership words used below:
 *   takes       ownership passes to the callee;
 *   borrows     the argument must stay valid until the call returns;
 *   returns new the caller frees the result with the matching _free.
 *
 * This layer has no runtime: it is usable (and tested) on its own, from any
 * thread. Only the atom table is shared state; it is thread-safe.
 */
#ifndef EPROC_TERM_H
#define EPROC_TERM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- atoms -- */

/* An atom is an index into the global, append-only atom table (as in BEAM,
 * atoms are never freed). Index 0 is never a valid atom. */
typedef uint32_t ep_atom;

#define EP_ATOM_MAX_CHARS 255      /* as Erlang: characters (code points), not bytes */
#ifndef EP_ATOM_LIMIT
#define EP_ATOM_LIMIT (1u << 20)   /* table size; the BEAM default is 1,048,576 */
#endif

/* Predefined atoms, at fixed indices: EP_A_ok, EP_A_EXIT ('EXIT'), ... */
#define EP_ATOMS_PREDEFINED(X) \
  X(false, "false") X(true, "true") X(ok, "ok") X(error, "error") \
  X(undefined, "undefined") X(normal, "normal") X(kill, "kill") \
  X(killed, "killed") X(shutdown, "shutdown") X(noproc, "noproc") \
  X(noconnection, "noconnection") X(badarg, "badarg") X(badarith, "badarith") \
  X(system_limit, "system_limit") X(timeout, "timeout") \
  X(infinity, "infinity") X(process, "process") X(nocatch, "nocatch") \
  X(EXIT, "EXIT") X(DOWN, "DOWN") X(stack_overflow, "stack_overflow") \
  X(calling_self, "calling_self") X(ignore, "ignore") X(stop, "stop") \
  X(reply, "reply") X(noreply, "noreply") X(call, "call") X(cast, "cast") \
  X(gen_server, "gen_server") X(registered_name, "registered_name") \
  X(links, "links") X(monitors, "monitors") X(monitored_by, "monitored_by") \
  X(message_queue_len, "message_queue_len") X(messages, "messages") \
  X(trap_exit, "trap_exit") X(status, "status") X(running, "running") \
  X(runnable, "runnable") X(waiting, "waiting") X(exiting, "exiting") \
  X(suspended, "suspended") X(reductions, "reductions") X(memory, "memory") \
  X(heap_size, "heap_size") X(stack_size, "stack_size") \
  X(current_function, "current_function") X(nil, "nil") \
  X(already_started, "already_started") X(already_present, "already_present") \
  X(not_found, "not_found") X(brutal_kill, "brutal_kill") \
  X(permanent, "permanent") X(transient, "transient") \
  X(temporary, "temporary") X(worker, "worker") X(supervisor, "supervisor") \
  X(noalloc, "noalloc") X(badfun, "badfun") X(badmatch, "badmatch") \
  X(function_clause, "function_clause") X(undef, "undef") X(port, "port") \
  X(node, "node") X(nonode_nohost, "nonode@nohost")

enum {
  EP__A_NONE = 0,
#define EP__ATOM_ENUM(id, name) EP_A_##id,
  EP_ATOMS_PREDEFINED(EP__ATOM_ENUM)
#undef EP__ATOM_ENUM
  EP__A_COUNT
};

/* Returns the atom named by `len` bytes of UTF-8 `name`, creating it if need
 * be. Errors: EP_EUTF8, EP_EATOMLEN, EP_ESYSLIMIT (table full). */
int ep_atom_from(const char *name, size_t len, ep_atom *out);
/* Same for a NUL-terminated name; returns 0 (never a valid atom) on error. */
ep_atom ep_atom_of(const char *name);
/* Looks an atom up without creating it; returns 0 if it does not exist. */
ep_atom ep_atom_find(const char *name, size_t len);
/* The atom's UTF-8 name, NUL-terminated, valid for ever; *len may be NULL. */
const char *ep_atom_name(ep_atom a, size_t *len);

/* --------------------------------------------------- pids, refs, ports -- */

/* Node field: the node's name atom, or EP_NODE_LOCAL for this node. */
#define EP_NODE_LOCAL 0u

/* A process identifier, printed <0.id.serial>. The serial makes a pid unique
 * for ever: a stale pid never matches a newer process in a reused slot. */
typedef struct ep_pid {
  uint32_t id;        /* process table slot */
  uint32_t serial;    /* slot generation */
  uint32_t node;      /* EP_NODE_LOCAL, or the node-name atom */
  uint32_t creation;  /* node incarnation; 0 for local */
} ep_pid;

/* A reference, printed #Ref<0.w2.w1.w0>. Local references use 3 words;
 * references decoded from other nodes keep up to 5. */
typedef struct ep_ref {
  uint32_t node, creation;
  uint32_t len;       /* words used, 1..5 */
  uint32_t w[5];
} ep_ref;

typedef struct ep_port {
  uint32_t node, creation;
  uint64_t id;
} ep_port;

static inline bool ep_pid_eq(ep_pid a, ep_pid b) {
  return a.id == b.id && a.serial == b.serial && a.node == b.node && a.creation == b.creation;
}
bool ep_ref_eq(const ep_ref *a, const ep_ref *b);
#define EP_PID_NONE ((ep_pid){0, 0, 0, 0})   /* never a valid pid */

/* ---------------------------------------------------------------- terms -- */

typedef const struct ep_term_s *ep_term;   /* points at an encoded term */

typedef enum ep_type {
  EP_TNONE = 0, EP_TINT, EP_TBIG, EP_TFLOAT, EP_TATOM, EP_TREF, EP_TFUN,
  EP_TPORT, EP_TPID, EP_TTUPLE, EP_TMAP, EP_TNIL, EP_TLIST, EP_TBINARY,
  EP_TBITS
} ep_type;

/* A view of binary bytes (borrowed from the term that holds them). */
typedef struct ep_bin {
  const uint8_t *data;
  size_t size;
} ep_bin;

/* A local function term: a C function with an argument term. It can travel
 * between processes of one node; encoding it for another node is
 * EP_ELOCALFUN. The runtime and OTP decide the function's signature. */
typedef void (*ep_fn)(void);

ep_type ep_type_of(ep_term t);
const char *ep_type_name(ep_type ty);     /* "integer", "tuple", ... */
size_t ep_term_size(ep_term t);           /* bytes of its encoding */

/* Accessors. Each returns 0 on success or EP_EBADTERM (wrong type) /
 * EP_ERANGE (does not fit) and leaves *out unchanged on error. */
int ep_get_int(ep_term t, int64_t *out);  /* integer or big that fits */
int ep_get_float(ep_term t, double *out); /* float only */
int ep_get_number(ep_term t, double *out);/* integer, big or float */
int ep_get_atom(ep_term t, ep_atom *out);
int ep_get_pid(ep_term t, ep_pid *out);
int ep_get_ref(ep_term t, ep_ref *out);
int ep_get_port(ep_term t, ep_port *out);
int ep_get_binary(ep_term t, ep_bin *out);/* binary (bits: EP_EBADTERM) */
int ep_get_fun(ep_term t, ep_fn *fn, ep_term *arg);
/* Copies a string term (binary, or list of code points) as NUL-terminated
 * UTF-8 into buf; returns the length it needs (like snprintf) or an error. */
int ep_get_string(ep_term t, char *buf, size_t cap);

bool ep_is_atom(ep_term t, ep_atom a);    /* t is exactly atom a */
size_t ep_tuple_arity(ep_term t);         /* 0 if not a tuple */
ep_term ep_tuple_elem(ep_term t, size_t i);/* NULL if out of range / not a tuple */
bool ep_is_list(ep_term t);               /* nil or cons */
ep_term ep_list_head(ep_term t);          /* NULL unless a cons */
ep_term ep_list_tail(ep_term t);          /* NULL unless a cons */
/* Number of elements of a proper list, or EP_EBADTERM if t is not one. */
long ep_list_length(ep_term t);
size_t ep_map_size(ep_term t);            /* 0 if not a map */
ep_term ep_map_get(ep_term map, ep_term key);   /* NULL if absent */
/* i-th pair in key order (i < ep_map_size). */
int ep_map_pair(ep_term map, size_t i, ep_term *key, ep_term *value);
/* maps:put/3 and maps:remove/2: return a new map (free with ep_term_free)
 * and leave `map` as it is; NULL if map is not a map or out of memory. */
ep_term ep_map_put(ep_term map, ep_term key, ep_term value);
ep_term ep_map_remove(ep_term map, ep_term key);

/* Owned terms: one malloc'd block each. */
ep_term ep_term_dup(ep_term t);           /* returns new, NULL if out of memory */
void ep_term_free(ep_term t);             /* takes; only for terms returned new */

/* A term stored in caller-supplied bytes, for hot paths that must not
 * allocate (e.g. a reference to pin in a receive pattern). */
#define EP_SMALLTERM_SIZE 40
typedef struct ep_smallterm { _Alignas(8) uint8_t b[EP_SMALLTERM_SIZE]; } ep_smallterm;
ep_term ep_atom_term(ep_smallterm *s, ep_atom a);
ep_term ep_int_term(ep_smallterm *s, int64_t v);
ep_term ep_pid_term(ep_smallterm *s, ep_pid p);
ep_term ep_ref_term(ep_smallterm *s, const ep_ref *r);
ep_term ep_nil_term(ep_smallterm *s);      /* [] */

/* ------------------------------------------------------------- builder -- */

/* Builds one term by appending values in pre-order. Containers are opened
 * with ep_b_tuple / ep_b_list / ep_b_map and closed with ep_b_end (lists
 * end in []) or ep_b_end_tail (the last value built becomes the tail).
 * Errors are sticky: the first one is kept in b->err and later calls do
 * nothing, so a sequence of calls is checked once at ep_b_finish. */
#define EP_MAX_DEPTH 1024            /* deepest container nesting accepted */
typedef struct ep_bframe { uint32_t pos, count, last; uint8_t kind; } ep_bframe; /* private */
/* err, depth and top lie apart: a compiler joins checks of neighbouring
 * fields into one wider load, which a store to just one of them, moments
 * before (ep_b_end, then ep_b_peek), cannot forward to. */
typedef struct ep_build {
  int err;                           /* read-only: first error, or 0 */
  int nframes;                       /* private: capacity of frames */
  uint8_t *buf;                      /* private */
  size_t len, cap, headroom;         /* private */
  int depth;                         /* private: open containers */
  uint8_t topkind;                   /* private: kind of the innermost open container */
  uint8_t borrowed;                  /* private: buf is the caller's (ep_b_init_buf) */
  uint32_t top;                      /* private: complete top-level values */
  ep_bframe *frames;                 /* private: inl, or malloc'd when deeper */
  ep_bframe inl[6];                  /* private */
} ep_build;

void ep_b_init(ep_build *b);
/* Reserves `headroom` bytes in front of the term, for a header of the
 * caller's own (a frame, a length) that then goes out with the term in
 * one buffer, without a copy. */
void ep_b_init_headroom(ep_build *b, size_t headroom);
/* Builds in the caller's buf (cap bytes) until the term outgrows it, then
 * moves to the heap: a small term built on the stack costs no malloc. buf
 * must outlive b; ep_b_free leaves it alone. */
void ep_b_init_buf(ep_build *b, void *buf, size_t cap);
void ep_b_free(ep_build *b);

void ep_b_uint(ep_build *b, uint64_t v);         /* becomes a big if > INT64_MAX */
/* A big integer from little-endian magnitude bytes (normalised: values that
 * fit int64 are stored as plain integers). */
void ep_b_big(ep_build *b, bool negative, const uint8_t *mag, size_t n);
void ep_b_float(ep_build *b, double v);          /* NaN/inf: EP_ERANGE */
void ep_b_atom_name(ep_build *b, const char *name);
void ep_b_binary(ep_build *b, const void *data, size_t n);
void ep_b_bits(ep_build *b, const void *data, size_t nbytes, unsigned lastbits);
void ep_b_string(ep_build *b, const char *utf8); /* list of code points */
void ep_b_nil(ep_build *b);
void ep_b_ref(ep_build *b, const ep_ref *r);
void ep_b_port(ep_build *b, const ep_port *p);
void ep_b_fun(ep_build *b, ep_fn fn);            /* then build its argument term */
void ep_b_term(ep_build *b, ep_term t);          /* copies t (borrows) */
void ep_b_list(ep_build *b);
void ep_b_map(ep_build *b);                      /* then key, value, key, value... */
void ep_b_end_tail(ep_build *b);
/* Returns the finished term, new (free with ep_term_free), and resets b;
 * NULL with *err set if anything failed (or if the term is incomplete). */
ep_term ep_b_finish(ep_build *b, int *err);
/* The finished term in place (valid until b changes); NULL on error. The
 * term starts at b->buf + b->headroom. */
static inline ep_term ep_b_peek(ep_build *b);
/* These are inline (below): ep_b_reset keeps the buffer for reuse. */
static inline void ep_b_reset(ep_build *b);
static inline void ep_b_int(ep_build *b, int64_t v);
static inline void ep_b_atom(ep_build *b, ep_atom a);
static inline void ep_b_pid(ep_build *b, ep_pid p);
static inline void ep_b_tuple(ep_build *b);
static inline void ep_b_end(ep_build *b);

/* Private: the builder's hot calls are inline. Their fast case (no error,
 * room in the buffer, inside a tuple or map; a tuple also at top level or
 * in the inline frames) writes the bytes and counts the value exactly as
 * term.c does; every other case, errors included, goes to the out-of-line
 * ep__b_* function with the full logic. The tags and frame kinds mirror
 * src/term/term_int.h and term.c, which check them with static asserts. */
enum { EP__BF_TUPLE = 1, EP__BF_LIST, EP__BF_MAP, EP__BF_FUN };
enum { EP__T_INT = 'i', EP__T_ATOM = 'a', EP__T_PID = 'p', EP__T_TUPLE = 't' };
#define EP__B_INL ((int)(sizeof ((ep_build *)0)->inl / sizeof(ep_bframe)))
void ep__b_int(ep_build *b, int64_t v);
void ep__b_atom(ep_build *b, ep_atom a);
void ep__b_pid(ep_build *b, ep_pid p);
void ep__b_tuple(ep_build *b);
void ep__b_end(ep_build *b);

static inline ep_bframe *ep__b_frames(ep_build *b) { return b->frames ? b->frames : b->inl; }

/* n bytes for a value inside a tuple or map, or NULL: take the slow path. */
static inline uint8_t *ep__b_room(ep_build *b, size_t n) {
  if ((b->topkind == EP__BF_TUPLE || b->topkind == EP__BF_MAP) && !b->err &&
      b->len + n <= b->cap)
    return b->buf + b->len;
  return NULL;
}

/* A scalar of n bytes was written at ep__b_room: count it in its container
 * (a tuple or map, so depth > 0 and no fun to close). */
static inline void ep__b_counted(ep_build *b, size_t n) {
  b->len += n;
  ep__b_frames(b)[b->depth - 1].count++;
}

static inline void ep_b_reset(ep_build *b) {
  b->len = b->headroom;
  b->err = 0;
  b->depth = 0;
  b->top = 0;
  b->topkind = 0;
}

static inline void ep_b_int(ep_build *b, int64_t v) {
  uint8_t *q = ep__b_room(b, 9);
  if (!q) { ep__b_int(b, v); return; }
  q[0] = EP__T_INT;
  __builtin_memcpy(q + 1, &v, 8);
  ep__b_counted(b, 9);
}

static inline void ep_b_atom(ep_build *b, ep_atom a) {
  uint8_t *q = a ? ep__b_room(b, 5) : NULL;
  if (!q) { ep__b_atom(b, a); return; }
  q[0] = EP__T_ATOM;
  __builtin_memcpy(q + 1, &a, 4);
  ep__b_counted(b, 5);
}

static inline void ep_b_pid(ep_build *b, ep_pid p) {
  uint8_t *q = ep__b_room(b, 17);
  if (!q) { ep__b_pid(b, p); return; }
  /* two halves as they came (in two registers): one 16-byte shuffle of
   * them would go through memory and miss store forwarding */
  uint32_t nc[2] = {p.node, p.creation}, is[2] = {p.id, p.serial};
  q[0] = EP__T_PID;
  __builtin_memcpy(q + 1, nc, 8);
  __builtin_memcpy(q + 9, is, 8);
  ep__b_counted(b, 17);
}

static inline void ep_b_tuple(ep_build *b) {
  bool start = b->depth == 0 ? b->top == 0
                             : b->topkind == EP__BF_TUPLE || b->topkind == EP__BF_MAP;
  if (!start || b->err || b->depth >= EP__B_INL || b->len + 9 > b->cap) {
    ep__b_tuple(b);
    return;
  }
  b->buf[b->len] = EP__T_TUPLE;   /* arity and size are written by ep_b_end */
  ep_bframe *f = &ep__b_frames(b)[b->depth++];
  f->pos = (uint32_t)b->len;
  f->count = 0;
  f->kind = EP__BF_TUPLE;
  b->topkind = EP__BF_TUPLE;
  b->len += 9;
}

static inline void ep_b_end(ep_build *b) {
  if (b->err || b->depth == 0) { ep__b_end(b); return; }
  ep_bframe *fr = ep__b_frames(b);
  ep_bframe *f = &fr[b->depth - 1];
  uint8_t up = b->depth > 1 ? fr[b->depth - 2].kind : 0;
  if (f->kind != EP__BF_TUPLE || up == EP__BF_FUN) { ep__b_end(b); return; }
  uint32_t hdr[2] = {f->count, (uint32_t)(b->len - f->pos - 9)};
  __builtin_memcpy(b->buf + f->pos + 1, hdr, 8);
  b->depth--;
  b->topkind = up;
  if (b->depth == 0) b->top++;
  else fr[b->depth - 1].count++;
}

static inline ep_term ep_b_peek(ep_build *b) {
  if (b->err || b->depth != 0 || b->top != 1) return NULL;
  return (ep_term)(const void *)(b->buf + b->headroom);
}

/* Format builder, in the spirit of erl_interface's ei_x_format:
 * ep_format(&t, "{compute, ~i, ~p}", 7, self).
 * Text is Erlang term syntax; holes take C arguments:
 *   ~i int        ~l long        ~u unsigned long   ~L long long
 *   ~d double     ~a atom name (const char *)       ~A ep_atom
 *   ~s UTF-8 string as a list (const char *)        ~b binary from a C string
 *   ~B binary (const void *, size_t)                ~p ep_pid     ~r const ep_ref *
 *   ~t ep_term (copied)           ~F ep_fn, then its argument ep_term
 * A hole stands wherever a term may (not inside <<...>>). A bad format or
 * argument (unknown letter, unbalanced brackets, NULL pointer, unknown
 * atom index) is EP_EFORMAT, or the builder's error (EP_ERANGE for a NaN,
 * EP_EUTF8, EP_EDEPTH); never a crash, nothing leaked. ep_b_format appends
 * one term and, like every builder call, leaves its error sticky in b.
 * Any thread; never blocks. Per thread, a few compiled formats are cached
 * (keyed by the format's address, checked against its text), so a repeated
 * format is not parsed again; freed when the thread exits. */
int ep_format(ep_term *out, const char *fmt, ...);          /* returns new */
int ep_vformat(ep_term *out, const char *fmt, va_list ap);
int ep_b_format(ep_build *b, const char *fmt, ...);         /* appends one term */
int ep_b_vformat(ep_build *b, const char *fmt, va_list ap);

/* --------------------------------------------------------- text forms -- */

/* Parses Erlang term text ("{put, a, 42}", "[1, 2.5, <<\"bin\">>, #{k => v}]",
 * "<0.57.0>", "#Ref<0.1.2.3>", "'quoted atom'", "\"string\"", 16#ff, $a).
 * One term, then optionally '.'; whitespace and % comments between tokens;
 * duplicate map keys: the last wins. <N.…> with N > 0 names the node atom
 * of index N (as ep_print writes it). Returns new. Errors: EP_EPARSE
 * (malformed), EP_EDEPTH (nested deeper than EP_MAX_DEPTH), EP_EATOMLEN,
 * EP_ETOOBIG (a binary over 16 MiB, an integer of over 100000 digits),
 * EP_ENOMEM, EP_EINVAL (NULL).
 * ep_b_parse reads exactly len bytes and appends the term to b (an error
 * stays sticky in b). Any thread; never blocks; no recursion in C. */
int ep_parse(ep_term *out, const char *text);
int ep_b_parse(ep_build *b, const char *text, size_t len);

enum ep_print_flags { EP_PRINT_ERLANG = 0, EP_PRINT_ELIXIR = 1 };
/* Prints like io:format("~tp") without line breaks ({result,16}, <0.57.0>,
 * "abc" for printable Latin-1 lists, <<"bin">>, <<"é"/utf8>>), or as
 * Elixir 1.14's inspect/1 without limits ({:result, 16}, #PID<0.57.0>,
 * 'abc', "bin", %{a: 1}). Text is UTF-8. Another node's pid, reference or
 * port prints its node atom's index first (<5.57.0>); a local function
 * term prints as #Fun<c.0xADDRESS>. Writes at most cap bytes including
 * the NUL and returns the length the whole text needs (as snprintf).
 * Any thread; never blocks; lists and nesting never recurse in C. */
size_t ep_print(char *buf, size_t cap, ep_term t, int flags);
/* Returns new (free()) NUL-terminated text, or NULL if out of memory. */
char *ep_print_alloc(ep_term t, int flags);

/* ------------------------------------------------------- order, hash -- */

/* Erlang term order: number < atom < reference < fun < port < pid < tuple
 * < map < nil < list < bitstring. Returns <0, 0, >0. 1 == 1.0 compares 0. */
int ep_compare(ep_term a, ep_term b);
bool ep_equal(ep_term a, ep_term b);       /* ==  (1 == 1.0) */
bool ep_exact_equal(ep_term a, ep_term b); /* =:= (1 =/= 1.0) */
/* Hash consistent with ep_exact_equal (equal terms hash equal). */
uint64_t ep_hash(ep_term t);

/* ------------------------------------------------------------------ ETF -- */

/* Erlang's external term format: the bytes of term_to_binary/1. */
enum ep_etf_flags {
  EP_ETF_UTF8_ATOMS = 0,  /* atoms as SMALL_ATOM_UTF8_EXT (OTP 26 default,
                             term_to_binary(T, [{minor_version, 2}])) */
  EP_ETF_LATIN1_ATOMS = 1 /* ATOM_EXT where latin-1 fits (OTP <= 25 default) */
};
/* Encodes t with the version byte 131, byte for byte as OTP 25's
 * term_to_binary (maps in key order, as OTP writes maps of up to 32 keys).
 * Local pids, refs and ports go out as node nonode@nohost, creation 0.
 * Returns new bytes (free()) in *out / *len. Errors: EP_ELOCALFUN (a local
 * function term), EP_ENOMEM, EP_EINVAL (NULL). */
int ep_etf_encode(const ep_term t, int flags, uint8_t **out, size_t *len);
/* Bytes needed, and the same encoding into caller storage: EP_ETOOBIG when
 * cap is short, with *len set to the size needed. */
int ep_etf_size(ep_term t, int flags, size_t *len);
int ep_etf_encode_to(ep_term t, int flags, uint8_t *buf, size_t cap, size_t *len);
/* Decodes one term (version byte first; compressed input accepted) of any
 * tag OTP 25 writes for these types, and the older atom, float, pid, port
 * and reference tags. Pids, refs and ports of nonode@nohost, creation 0
 * become local. Hostile input gets an error, never a crash, recursion or
 * an allocation much larger than the input (or the inflated size):
 * EP_ETRUNC (a length past the end), EP_EBADVER, EP_EBADTAG (funs, export,
 * atom cache refs, distribution headers, unknown tags), EP_EDEPTH (nesting
 * past EP_MAX_DEPTH), EP_EUTF8, EP_EATOMLEN, EP_ERANGE (NaN/inf, bad bit
 * count or reference length), EP_EDUPKEY, EP_EZLIB (corrupt or lying
 * compressed data), EP_ETRAILING, EP_ETOOBIG, EP_ENOMEM. *err_offset (may
 * be NULL) receives the input offset of the failing item's tag; inside
 * compressed data, the offset the same term would have uncompressed.
 * ep_b_etf_decode appends the term to b (straight into its buffer when b is
 * empty); an error stays sticky in b. Any thread; never blocks. */
int ep_etf_decode(ep_term *out, const uint8_t *data, size_t len, size_t *err_offset);
int ep_b_etf_decode(ep_build *b, const uint8_t *data, size_t len, size_t *err_offset);

/* ------------------------------------------------------------ patterns -- */

/* A compiled receive pattern. Text is Erlang pattern syntax:
 *   {'EXIT', Pid, Reason}   {put, K, V, From}   {result, _}   [H|T]
 *   [a, B | T]   "str"   <<"bin">>   <<"bin"/utf8>>   #{key := V}
 *   42  -1  16#ff  $a  123456789012345678901234  2.5  <0.57.0>  #Ref<0.1.2.3>
 * with Erlang's lexical rules (quoted atoms and their escapes, 1_000,
 * %-comments). Literals match by exact equality (=:=; as in the term core,
 * 0.0 =:= -0.0). `_` and `_Name` match anything and bind nothing.
 * A map pattern matches maps holding at least its keys; keys are literals.
 * Not supported: binary segments with variables or sizes, `=` aliases,
 * `++`, guards (a typed variable covers is_pid(P) and the like).
 * A variable repeated in a pattern must match =:= terms.
 * Variables are numbered from 0 in order of first appearance; a variable
 * may carry a type (at any of its occurrences) that is checked while
 * matching and fixes its C output:
 *   X::int (int64_t)  X::float (double)  X::number (double)  X::atom (ep_atom)
 *   X::pid (ep_pid)   X::ref (ep_ref)    X::bin (ep_bin)     X::term (ep_term)
 * ::int matches only integers that fit int64_t and ::number only numbers a
 * finite double holds, so binding a successful match never fails; ::bin
 * matches binaries, not bit strings. _::type checks without binding.
 * Untyped variables are ::term. `~i ~d ~a ~p ~r ~b ~t` are anonymous typed
 * variables (the format letters: int, float, atom, pid, ref, binary, term).
 * Pins: `^Name` (or `^~t`) is a value supplied at match time, numbered from 0
 * in order of appearance (the same ^Name twice is one pin), compared with
 * =:=. A name cannot be both a pin and a variable.
 * Matching never allocates, only looks at the parts of the term the pattern
 * names (anything else is skipped in O(1)) and does not recurse (a repeated
 * variable or pin whose bytes differ, in a value that can hold floats, is
 * settled by ep_exact_equal). A compiled pattern is immutable: any number of
 * threads may match with it at once. */
typedef struct ep_pattern ep_pattern;

#define EP_PATTERN_MAX_VARS 16
#define EP_PATTERN_MAX_PINS 8

/* Returns new (ep_pattern_free). EP_EPARSE on bad text; EP_ETOOBIG past
 * EP_PATTERN_MAX_VARS variables, EP_PATTERN_MAX_PINS pins, 16 nested map
 * patterns or 100000-digit numbers; EP_EDEPTH past 256 nested terms;
 * EP_EATOMLEN for a long atom.
 * *err_offset gets the byte offset of the error when not NULL. */
int ep_pattern_compile(ep_pattern **out, const char *text, size_t *err_offset);
void ep_pattern_free(ep_pattern *p);
int ep_pattern_nvars(const ep_pattern *p);
int ep_pattern_npins(const ep_pattern *p);
const char *ep_pattern_text(const ep_pattern *p);
/* Compiles once, thread-safely, into *slot; aborts with a message if the
 * text is bad (a pattern literal in a program is a programming error). */
const ep_pattern *ep_pattern_once(ep_pattern *_Atomic *slot, const char *text);
/* A static pattern compiled on first use: EP_PATTERN(p_get, "{get, K}"). */
#define EP_PATTERN(name, text)                                                 \
  static ep_pattern *_Atomic name##__slot;                                     \
  const ep_pattern *name = ep_pattern_once(&name##__slot, (text))

/* Matches t. pins: the pinned values (may be NULL if none: a pattern with
 * pins then matches nothing); vars: receives one subterm per variable (may
 * be NULL), borrowed from t. Returns true on a match; after a failed match
 * the contents of vars are unspecified. */
bool ep_pattern_match(const ep_pattern *p, ep_term t, const ep_term *pins, ep_term *vars);
/* Writes the typed C outputs of a successful match: one pointer per
 * variable, in variable order, of the variable's type (see above); a NULL
 * pointer skips its variable. Returns 0, or EP_EBADTERM if a vars[i] is not
 * of its variable's type (vars not from a successful match), EP_EINVAL if
 * vars is NULL. */
int ep_pattern_bind(const ep_pattern *p, const ep_term *vars, ...);
int ep_pattern_vbind(const ep_pattern *p, const ep_term *vars, va_list ap);
/* Private (ep_bind): the same with the outputs in an array of n (missing ones: NULL). */
int ep__pattern_bind_array(const ep_pattern *p, const ep_term *vars, void *const *out, int n);
/* Match and bind in one step: ep_match(p, t, &k, &from). A pattern with
 * pins takes the pinned values (ep_term) first: ep_match(p, t, ref, &reply).
 * On no match the outputs are not written. */
bool ep_match(const ep_pattern *p, ep_term t, ...);

#ifdef __cplusplus
}
#endif
#endif
