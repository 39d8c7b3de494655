/* JSON and UCL serialisation with libucl's layout and number rules, so that
 * our -j/--compact/--ucl output is byte-identical to rspamc's. */
#include "internal.h"
#include "ucl/ucl.h" /* rk_emit_json_string, rk_ucl_bool_word */

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* libucl prints doubles by comparing against the value cast to int. */
static void fmt_double(char *out, size_t sz, double v)
{
    int iv = (v >= INT_MIN && v <= INT_MAX) ? (int)v : INT_MIN;
    if (v == (double)iv)
        snprintf(out, sz, "%.1f", v);
    else if (fabs(v - (double)iv) < 1e-7)
        snprintf(out, sz, "%.15g", v);
    else
        snprintf(out, sz, "%f", v);
}

static int put_string(rk_buf *b, const char *s, size_t len)
{
    if (rk_buf_reserve(b, len + 2))
        return -1;
    b->p[b->len++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\v': esc = "\\u000B"; break;
        case 0: esc = "\\u0000"; break;
        default:
            if (c < 0x20 || c == 0x7f)
                esc = "\\uFFFD";
        }
        if (esc ? rk_buf_puts(b, esc) : rk_buf_append(b, &s[i], 1))
            return -1;
    }
    return rk_buf_append(b, "\"", 1);
}

/* Also used by the configdump emitter (lib/ucl_emit.c): libucl escapes
 * strings the same way in every output. */
int rk_emit_json_string(rk_buf *b, const char *s, size_t len)
{
    return put_string(b, s, len);
}

static int put_scalar(rk_buf *b, const json_t *v)
{
    char num[512];
    switch (json_typeof(v)) {
    case JSON_STRING:
        return put_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return rk_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        fmt_double(num, sizeof num, json_real_value(v));
        return rk_buf_puts(b, num);
    case JSON_TRUE:
        return rk_buf_puts(b, "true");
    case JSON_FALSE:
        return rk_buf_puts(b, "false");
    default:
        return rk_buf_puts(b, "null");
    }
}

static int indent(rk_buf *b, int level)
{
    for (int i = 0; i < level; i++)
        if (rk_buf_append(b, "    ", 4))
            return -1;
    return 0;
}

/* JSON, pretty (4-space indent) or compact. */
static int emit_json(rk_buf *b, const json_t *v, int pretty, int level)
{
    if (json_is_object(v) || json_is_array(v)) {
        int obj = json_is_object(v);
        size_t n = obj ? json_object_size(v) : json_array_size(v);
        if (rk_buf_puts(b, obj ? "{" : "["))
            return -1;
        if (n == 0)
            return rk_buf_puts(b, obj ? "}" : "]");
        size_t i = 0;
        const char *key;
        json_t *val;
        void *iter = obj ? json_object_iter((json_t *)v) : NULL;
        for (i = 0; i < n; i++) {
            if (obj) {
                key = json_object_iter_key(iter);
                val = json_object_iter_value(iter);
                iter = json_object_iter_next((json_t *)v, iter);
            } else {
                key = NULL;
                val = json_array_get(v, i);
            }
            if (pretty && (rk_buf_puts(b, "\n") || indent(b, level + 1)))
                return -1;
            if (key && (put_string(b, key, strlen(key)) || rk_buf_puts(b, pretty ? ": " : ":")))
                return -1;
            if (emit_json(b, val, pretty, level + 1))
                return -1;
            if (i + 1 < n && rk_buf_puts(b, ","))
                return -1;
        }
        if (pretty && (rk_buf_puts(b, "\n") || indent(b, level)))
            return -1;
        return rk_buf_puts(b, obj ? "}" : "]");
    }
    return put_scalar(b, v);
}

static int key_needs_quotes(const char *k)
{
    if (!*k)
        return 1;
    for (const unsigned char *p = (const unsigned char *)k; *p; p++)
        if (!(*p >= 0x80 || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.' || *p == '/'))
            return 1;
    return 0;
}

static int put_key(rk_buf *b, const char *k)
{
    return key_needs_quotes(k) ? put_string(b, k, strlen(k)) : rk_buf_puts(b, k);
}

static int emit_ucl_value(rk_buf *b, const json_t *v, int level, int in_array);

/* Members of an object, one per line at `level`. */
static int emit_ucl_members(rk_buf *b, const json_t *obj, int level)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val) {
        if (indent(b, level) || put_key(b, key))
            return -1;
        if (json_is_object(val) || json_is_array(val)) {
            if (rk_buf_puts(b, " ") || emit_ucl_value(b, val, level, 0))
                return -1;
        } else if (rk_buf_puts(b, " = ") || put_scalar(b, val) || rk_buf_puts(b, ";\n")) {
            return -1;
        }
    }
    return 0;
}

/* A container written after its key (or as an array element): "{", members,
 * "}" on its own line at `level`. */
static int emit_ucl_value(rk_buf *b, const json_t *v, int level, int in_array)
{
    if (json_is_object(v)) {
        if (json_object_size(v) == 0)
            return rk_buf_puts(b, "{}\n");
        return rk_buf_puts(b, "{\n") || emit_ucl_members(b, v, level + 1) || indent(b, level) ||
               rk_buf_puts(b, "}\n");
    }
    if (json_is_array(v)) {
        if (json_array_size(v) == 0)
            return rk_buf_puts(b, "[]\n");
        if (rk_buf_puts(b, "[\n"))
            return -1;
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *e = json_array_get(v, i);
            if (indent(b, level + 1))
                return -1;
            if (json_is_object(e) || json_is_array(e)) {
                if (emit_ucl_value(b, e, level + 1, 1))
                    return -1;
            } else if (put_scalar(b, e) || rk_buf_puts(b, ",\n")) {
                return -1;
            }
        }
        return indent(b, level) || rk_buf_puts(b, "]\n");
    }
    (void)in_array;
    return put_scalar(b, v) || rk_buf_puts(b, ";\n");
}

RK_API char *rk_emit(const json_t *v, rk_emit_format fmt, size_t *len)
{
    rk_buf b = {0};
    int rc;
    if (fmt == RK_EMIT_UCL)
        rc = json_is_object(v) ? emit_ucl_members(&b, v, 0) : emit_ucl_value(&b, v, 0, 0);
    else
        rc = emit_json(&b, v, fmt == RK_EMIT_JSON, 0);
    if (rc == 0 && !b.p)
        rc = rk_buf_reserve(&b, 1);
    if (rc) {
        rk_buf_free(&b);
        return NULL;
    }
    b.p[b.len] = 0;
    if (len)
        *len = b.len;
    return (char *)b.p;
}

RK_API char *rk_emit_reply(const json_t *reply, rk_emit_format fmt, const char *filename,
                           double scan_time, size_t *len)
{
    if (!json_is_object(reply))
        return rk_emit(reply, fmt, len);
    json_t *copy = json_copy((json_t *)reply);
    if (!copy)
        return NULL;
    if (filename)
        json_object_set_new(copy, "filename", json_string_nocheck(filename));
    json_object_set_new(copy, "scan_time", json_real(scan_time));
    char *s = rk_emit(copy, fmt, len);
    json_decref(copy);
    return s;
}

RK_API char *rk_emit_error(rk_emit_format fmt, const char *filename, const char *msg,
                           size_t *len)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "filename", json_string_nocheck(filename ? filename : ""));
    json_object_set_new(o, "error", json_string_nocheck(msg));
    char *s = rk_emit(o, fmt, len);
    json_decref(o);
    return s;
}

/* UCL's boolean of a value: true, a non-zero number, "true"/"yes"/"on" */
static int ucl_true(const json_t *v)
{
    const char *s = json_string_value(v);
    return json_is_true(v) || (json_is_number(v) && json_number_value(v) != 0) ||
           (s && rk_ucl_bool_word(s, strlen(s)) == 1);
}

RK_API char *rk_emit_neural(const rk_result *r, const char *cls, size_t *len)
{
    const json_t *j = r ? r->json : NULL;
    rk_buf b = {0};
    int rc;
    if (json_object_get(j, "default") || json_object_get(j, "action"))
        rc = rk_buf_puts(&b, "success = true;\nmethod = \"scan\";\n");
    else
        rc = rk_buf_printf(&b, "success = %s;\n",
                           ucl_true(json_object_get(j, "success")) ? "true" : "false");
    json_t *v = json_object_get(j, "filename");
    if (json_is_string(v))
        rc |= rk_buf_printf(&b, "filename = \"%s\";\n", json_string_value(v));
    v = json_object_get(j, "scan_time");
    if (json_is_number(v) && json_number_value(v) >= 0)
        rc |= rk_buf_printf(&b, "scan_time = %.6f;\n", json_number_value(v));
    rc |= rk_buf_printf(&b, "class = \"%s\";\n", cls ? cls : "");
    v = json_object_get(j, "stored");
    if (json_is_number(v))
        rc |= rk_buf_printf(&b, "stored = %ju bytes;\n", (uintmax_t)json_number_value(v));
    v = json_object_get(j, "key");
    if (json_is_string(v))
        rc |= rk_buf_printf(&b, "key = \"%s\";\n", json_string_value(v));
    if (rc) {
        rk_buf_free(&b);
        return NULL;
    }
    if (len)
        *len = b.len;
    return (char *)b.p;
}
