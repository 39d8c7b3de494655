#include "config.h"
#include "render.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tk_color;

void tk_color_init(void)
{
    const char *nc = getenv("NO_COLOR");
    tk_color = isatty(STDOUT_FILENO) && !(nc && *nc);
}

const char *tk_bold(void) { return tk_color ? "\033[1m" : ""; }
const char *tk_reset(void) { return tk_color ? "\033[0m" : ""; }

void tk_print_time(FILE *f, double t)
{
    fprintf(f, "%.3g", t);
}

static rk_emit_format emit_fmt(tk_outfmt fmt)
{
    return fmt == TK_OUT_UCL ? RK_EMIT_UCL : fmt == TK_OUT_COMPACT ? RK_EMIT_COMPACT : RK_EMIT_JSON;
}

static void emit(FILE *f, const json_t *v, tk_outfmt fmt)
{
    size_t len;
    char *s = rk_emit(v, emit_fmt(fmt), &len);
    if (s) {
        fwrite(s, 1, len, f);
        free(s);
    }
    fputc('\n', f);
}

void tk_dump_reply(FILE *f, const json_t *reply, tk_outfmt fmt, const char *filename, double t)
{
    if (!json_is_object(reply)) {
        emit(f, reply, fmt);
        return;
    }
    json_t *copy = json_copy((json_t *)reply);
    if (filename)
        json_object_set_new(copy, "filename", json_string_nocheck(filename));
    json_object_set_new(copy, "scan_time", json_real(t));
    emit(f, copy, fmt);
    json_decref(copy);
}

void tk_dump_error(FILE *f, tk_outfmt fmt, const char *filename, const char *msg)
{
    json_t *o = json_object();
    json_object_set_new(o, "filename", json_string_nocheck(filename ? filename : ""));
    json_object_set_new(o, "error", json_string_nocheck(msg));
    emit(f, o, fmt);
    json_decref(o);
}

void tk_heading(FILE *f, tk_outfmt fmt, const char *kind, const char *name, double t)
{
    if (fmt != TK_OUT_TEXT && fmt != TK_OUT_UCL)
        return;
    fprintf(f, "Results for %s: %s%s%s (", kind, tk_bold(), name, tk_reset());
    tk_print_time(f, t);
    fputs(" seconds)\n", f);
}

void tk_dump_compat(FILE *f, tk_outfmt fmt, int headers, const char *label,
                    const rk_response *resp, const json_t *reply)
{
    double t = resp ? resp->elapsed : 0;
    tk_heading(f, fmt, "file", label, t);
    if (headers && resp)
        tk_print_headers(f, resp);
    tk_dump_reply(f, reply, fmt == TK_OUT_TEXT ? TK_OUT_UCL : fmt, label, t);
}

char *tk_line(const char *label, const char *prefix, const char *msg)
{
    char *l = NULL;
    if (asprintf(&l, "%s: %s%s", label, prefix, msg) < 0)
        l = NULL;
    return l;
}

void tk_print_headers(FILE *f, const rk_response *resp)
{
    for (size_t i = 0; i < resp->headers.n; i++)
        fprintf(f, "%s: %s\n", resp->headers.v[i].name, resp->headers.v[i].value);
    fputc('\n', f);
}
