/* Internal view of the UCL tree shared by lib/ucl_*.c and lib/config.c.
 *
 * The tree follows the data model of libucl as bundled with Rspamd 3.4,
 * because `rspamadm configdump` prints that model directly:
 *  - an object keeps its members in insertion order; a member is the head of
 *    a list of values (an "implicit array") when the same key was given
 *    several times at the same priority;
 *  - every value carries the 4-bit priority it was parsed with;
 *  - strings remember whether they were single-quoted or heredocs, which
 *    changes how they are printed;
 *  - `len` is libucl's length field (bytes of a string, members of an object,
 *    elements of an array) with libucl's quirks, because the emitter looks
 *    at it to decide between "{}" and "{\n...}".
 */
#ifndef RK_UCL_H
#define RK_UCL_H

#include "internal.h"

#include <stdint.h>

/* ---- The parser's interface (used by rspamkit.conf, configdump and the
 * emitters; not exported from the shared library) ---- */

/*
 * UCL as Rspamd 3.4 reads it (its bundled libucl): comments, quoted,
 * single-quoted and unquoted strings, heredocs, numbers with size and time
 * suffixes, implicit arrays, the .include/.try_include/.includes/.priority/
 * .load/.inherit macros with priorities and duplicate strategies, and
 * variables ($VAR, ${VAR}).
 *
 * A parsed tree is owned by the caller (rk_ucl_free). Nodes returned by the
 * accessors point into their tree and live as long as it does.
 */
typedef struct rk_ucl rk_ucl;

typedef enum rk_ucl_type {
    RK_UCL_OBJECT,
    RK_UCL_ARRAY,
    RK_UCL_INT,
    RK_UCL_FLOAT,
    RK_UCL_TIME,     /* a number with a time suffix, in seconds (double) */
    RK_UCL_STRING,
    RK_UCL_BOOLEAN,
    RK_UCL_NULL
} rk_ucl_type;

/* rk_ucl_parse_opts.flags */
#define RK_UCL_RSPAMD_VARS 0x1u /* predefine Rspamd's variables: CONFDIR, LOCAL_CONFDIR,
                                   RUNDIR, DBDIR, LOGDIR, PLUGINSDIR, SHAREDIR, RULESDIR,
                                   WWWDIR, PREFIX, VERSION*, BRANCH_VERSION, HOSTNAME */
#define RK_UCL_TEMPLATES   0x2u /* pass every file through Rspamd's Jinja stage: {# #}
                                   comments and {= name =} expressions are expanded,
                                   {% %} statements are refused with an error */
#define RK_UCL_KEEP_COMMENTS 0x4u /* keep comments with the values they precede */

typedef struct rk_ucl_parse_opts {
    unsigned flags;
    const char *const *vars;   /* "NAME=VALUE" items, registered in order after the
                                  predefined ones; an existing NAME is replaced */
    size_t n_vars;
} rk_ucl_parse_opts;

/* Parse a file (and what it includes). opts may be NULL. On failure err
 * carries the message libucl would give, with file, line and column. */
int rk_ucl_parse_file(const char *path, const rk_ucl_parse_opts *opts,
                             rk_ucl **out, rk_error *err);
/* Parse a buffer; `name` is used in messages and as $FILENAME (may be NULL). */
int rk_ucl_parse_buffer(const void *data, size_t len, const char *name,
                               const rk_ucl_parse_opts *opts, rk_ucl **out, rk_error *err);
/* Free a tree (a value and the implicit-array values that follow it). */
void rk_ucl_free(rk_ucl *u);

rk_ucl_type rk_ucl_type_of(const rk_ucl *u);
/* Key of an object member (NULL for array elements and the top). */
const char *rk_ucl_key(const rk_ucl *u, size_t *len);
/* Next value of an implicit array (same key given again), or NULL. */
const rk_ucl *rk_ucl_next(const rk_ucl *u);
/* Number of members of an object or elements of an array, 0 otherwise. */
size_t rk_ucl_count(const rk_ucl *u);
/* i-th member (first value of it) or element, or NULL. */
const rk_ucl *rk_ucl_at(const rk_ucl *u, size_t i);
/* First value of `key` in an object, or NULL. */
const rk_ucl *rk_ucl_lookup(const rk_ucl *obj, const char *key);
/* Dotted path as rspamadm takes it: "options.dns", "arr.3" (0-based index). */
const rk_ucl *rk_ucl_lookup_path(const rk_ucl *top, const char *path);
int64_t rk_ucl_int(const rk_ucl *u);         /* numbers, booleans */
double rk_ucl_double(const rk_ucl *u);       /* numbers, booleans */
int rk_ucl_bool(const rk_ucl *u);            /* booleans, numbers != 0 */
const char *rk_ucl_string(const rk_ucl *u, size_t *len); /* strings, else NULL */

typedef enum rk_ucl_format {
    RK_UCL_FMT_CONFIG,   /* rspamadm configdump (UCL "config" syntax) */
    RK_UCL_FMT_JSON,     /* configdump -j */
    RK_UCL_FMT_COMPACT   /* configdump -C */
} rk_ucl_format;

/* Serialise `u` exactly as rspamadm configdump 3.4 does (libucl layout,
 * Rspamd's number printing, heredocs and single quotes in config syntax).
 * The top value prints without braces in config syntax. Returns a malloc'd
 * NUL-terminated string or NULL on ENOMEM. */
char *rk_ucl_emit(const rk_ucl *u, rk_ucl_format fmt, size_t *len);
/* The same with flags: RK_UCL_EMIT_COMMENTS prints the comments kept by the
 * parser (RK_UCL_KEEP_COMMENTS) in config syntax, as rspamadm's -s does. */
#define RK_UCL_EMIT_COMMENTS 0x1u
char *rk_ucl_emit_ex(const rk_ucl *u, rk_ucl_format fmt, unsigned flags, size_t *len);
/* Append `u` in msgpack as libucl's UCL_EMIT_MSGPACK writes it (shortest
 * encodings, doubles as float64; an implicit array keeps its first value).
 * -1 on ENOMEM. */
int rk_ucl_emit_msgpack(const rk_ucl *u, rk_buf *out);
/* The tree as jansson values (implicit arrays become arrays, the top value's
 * implicit-array followers are ignored). NULL on ENOMEM. */
json_t *rk_ucl_to_json(const rk_ucl *u);

enum {
    RK_UCLF_SQUOTED = 1u << 0,    /* was '...' in the source */
    RK_UCLF_MULTILINE = 1u << 1,  /* heredoc or .load(multiline=true) */
    RK_UCLF_KEY_ESCAPE = 1u << 2, /* key must be printed as a JSON string */
    RK_UCLF_INHERITED = 1u << 3   /* copied in by .inherit */
};

typedef struct rk_ucl_members {
    rk_ucl **v;       /* heads in insertion order; NULL marks a removed slot */
    size_t n, cap;
    uint32_t *hash;   /* open addressing, slot index + 1, 0 = empty */
    size_t hcap;      /* 0 while the object is small (linear search) */
} rk_ucl_members;

typedef struct rk_ucl_elems {
    rk_ucl **v;
    size_t n, cap;
} rk_ucl_elems;

/* Comments the parser kept for a value (configdump -s), in order. */
typedef struct rk_ucl_comments {
    char **text;
    size_t *len;
    size_t n;
    int after;        /* printed after the value (libucl's "inherited" mark) */
} rk_ucl_comments;

void rk_ucl_comments_free(rk_ucl_comments *c);

struct rk_ucl {
    rk_ucl_type type;
    unsigned flags;   /* RK_UCLF_* */
    unsigned prio;    /* 0..15 */
    char *key;        /* NUL-terminated copy, may contain NULs (keylen) */
    size_t keylen;
    size_t len;       /* libucl's len (see above) */
    union {
        int64_t iv;
        double dv;
        int bv;
        char *sv;     /* NUL-terminated, `len` bytes */
        rk_ucl_members *ov;
        rk_ucl_elems *av;
    } v;
    rk_ucl *next;     /* next value of an implicit array */
    rk_ucl_comments *comments; /* only when the parser was asked to keep them */
};

/* Allocation and tree surgery (ucl_tree.c). All return NULL / -1 on ENOMEM. */
rk_ucl *rk_ucl_node(rk_ucl_type type, unsigned prio);
rk_ucl *rk_ucl_new_string(const char *s, size_t len);
rk_ucl *rk_ucl_new_int(int64_t v);
rk_ucl *rk_ucl_new_double(double v);
rk_ucl *rk_ucl_new_bool(int v);
int rk_ucl_set_key(rk_ucl *u, const char *key, size_t keylen);
/* Turn `u` into an empty object / array, dropping what it held. */
int rk_ucl_make_container(rk_ucl *u, rk_ucl_type type);
/* Drop the value held by `u` (children, string) keeping key and list links. */
void rk_ucl_clear_value(rk_ucl *u);
/* Free one value and its children, not the values that follow it. */
void rk_ucl_free_one(rk_ucl *u);
/* Member head with this key, or NULL. */
rk_ucl *rk_ucl_find(const rk_ucl *obj, const char *key, size_t keylen);
/* Append a new member head (the key must not exist yet). */
int rk_ucl_obj_append(rk_ucl *obj, rk_ucl *member);
/* Replace the head `old` of an object by `nw` at the same position. */
void rk_ucl_obj_replace(rk_ucl *obj, rk_ucl *old, rk_ucl *nw);
/* Remove the head `old` from an object (not freed). */
void rk_ucl_obj_remove(rk_ucl *obj, rk_ucl *old);
int rk_ucl_arr_append(rk_ucl *arr, rk_ucl *elt);
/* libucl's ucl_object_insert_key(top, elt, key, copy_key, false): new key
 * appended, existing key gets `elt` appended to its implicit array. The key
 * escape flag is computed from the key characters. Takes `elt`. */
int rk_ucl_insert(rk_ucl *obj, rk_ucl *elt, const char *key, size_t keylen);
/* Same, but an existing key is replaced in place (ucl_object_replace_key). */
int rk_ucl_replace_key(rk_ucl *obj, rk_ucl *elt, const char *key, size_t keylen);
/* Deep copy of one value with its implicit-array followers. */
rk_ucl *rk_ucl_copy(const rk_ucl *u);
rk_ucl *rk_ucl_copy_one(const rk_ucl *u);
/* libucl's boolean words, in any case: true/yes/on 1, false/no/off 0, else -1. */
int rk_ucl_bool_word(const char *s, size_t len);
/* Does `c` need escaping in a key (libucl's "UCL unsafe" class)? */
int rk_ucl_key_unsafe(unsigned char c);

/* libucl's JSON string escaping, shared with rk_emit (defined in emit.c). */
int rk_emit_json_string(rk_buf *b, const char *s, size_t len);

/* Read a whole regular file into a malloc'd NUL-terminated buffer. On
 * failure returns -1 with errno set and *step saying what failed. */
typedef enum rk_slurp_step { RK_SLURP_OPEN, RK_SLURP_STAT, RK_SLURP_NOTREG, RK_SLURP_READ,
                             RK_SLURP_NOMEM } rk_slurp_step;
int rk_ucl_slurp(const char *path, unsigned char **buf, size_t *len, rk_slurp_step *step);

/* Number printing (ucl_num.c): Rspamd's fpconv "%.Nf" (grisu2 shortest
 * digits, then truncation or scientific notation). Writes at most 40 bytes
 * plus NUL into out and returns the length. */
size_t rk_fpconv(double v, unsigned precision, char *out);
/* How rspamadm prints a UCL_FLOAT or UCL_TIME: "%.1f" for values equal to
 * their int32 truncation, "%.6f" otherwise, "null" when not finite. */
size_t rk_ucl_format_double(double v, char *out);

/* Parser environment (ucl_parse.c). */
typedef struct rk_ucl_kv {
    const char *name, *value;
} rk_ucl_kv;

typedef struct rk_ucl_env rk_ucl_env;

/* Template stage run on every chunk (file) before parsing, as Rspamd's
 * Jinja handler. Returns 0 with *out = NULL for "unchanged", 0 with a
 * malloc'd NUL-terminated *out, or -1 with a message in msg. */
typedef int (*rk_ucl_template_fn)(const rk_ucl_env *env, const char *file,
                                  const unsigned char *in, size_t len,
                                  unsigned char **out, size_t *outlen, char *msg, size_t msgsz);

struct rk_ucl_env {
    const rk_ucl_kv *vars;  /* variables registered after FILENAME and CURDIR */
    size_t n_vars;
    int rspamd_macros;      /* accept Rspamd's .include_map */
    rk_ucl_template_fn template_fn;
    const rk_ucl_kv *tpl_env;   /* template names: env.X and X */
    size_t n_tpl_env;
    const rk_ucl_kv *tpl_paths; /* template names: paths.X */
    size_t n_tpl_paths;
    const char *include_root;   /* if set, .include/.load may only read below it */
    int keep_comments;          /* attach comments to the values (configdump -s) */
};

/* Parse data[0..len) as the content of `file` (NULL: a buffer; $FILENAME is
 * then "undef"). `file` should be a real path: it becomes $FILENAME. */
int rk_ucl_parse_env(const void *data, size_t len, const char *file, const rk_ucl_env *env,
                     rk_ucl **out, rk_error *err);

/* libucl's number lexer (ucl_parse.c): 0 and the value in obj (may be NULL),
 * EINVAL when the text is not a number, ERANGE when out of range. */
int rk_ucl_parse_number(rk_ucl *obj, const unsigned char *start, const unsigned char *end,
                        const unsigned char **pos);

/* The Jinja subset (ucl_jinja.c). */
int rk_ucl_jinja(const rk_ucl_env *env, const char *file, const unsigned char *in, size_t len,
                 unsigned char **out, size_t *outlen, char *msg, size_t msgsz);

/* Rspamd 3.4 as Debian builds it (ucl_rspamd.c). */
#define RK_RSPAMD_VERSION "3.4"

typedef struct rk_rs_env {
    rk_ucl_env env;
    rk_ucl_kv *vars, *tpl_env, *tpl_paths;
    size_t n_vars, n_tpl_env, n_tpl_paths;
    char **own;   /* strings the tables point to */
    size_t nown;
} rk_rs_env;

/* An Rspamd version "X.Y" or "X.Y.Z" (NULL: RK_RSPAMD_VERSION); -1 when
 * malformed.  *patch (when patch is not NULL) is Z, 0 without one. */
int rk_rs_version_parse(const char *version, unsigned *major, unsigned *minor, unsigned *patch);
/* Variables (RK_UCL_RSPAMD_VARS) and the template environment
 * (RK_UCL_TEMPLATES) of Rspamd `version` (NULL: RK_RSPAMD_VERSION; a
 * malformed one is RK_ERR_USAGE) for "NAME=VALUE" items. */
int rk_rs_env_init(rk_rs_env *e, unsigned flags, const char *version, const char *const *vars,
                   size_t n_vars, rk_error *err);
void rk_rs_env_clear(rk_rs_env *e);
/* Whole file into a malloc'd NUL-terminated buffer. */
int rk_rs_read_file(const char *path, unsigned char **buf, size_t *len, rk_error *err);
/* What Rspamd's Lua code does to the tree after parsing (ucl_transform.c).
 * inplace: Rspamd 3.10+ (the transform edits the tree, which keeps its
 * form; only the sections it changed are rebuilt) instead of 3.4 (the
 * whole tree is rebuilt from Lua when the transform returns true). */
int rk_rs_transform(rk_ucl *top, int inplace, rk_error *err);
/* Rspamd 3.14.3+: fuzzy_check's legacy max_score becomes hits_limit (value
 * and type kept; an existing hits_limit is replaced) in the section itself,
 * in each rule pairs() reaches in fuzzy_check.rule and in each entry of
 * their fuzzy_map, as lua_cfg_transform.lua does it. */
int rk_rs_hits_limit(rk_ucl *top, rk_error *err);

#endif
