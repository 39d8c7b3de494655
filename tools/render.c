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

rk_emit_format tk_emit_format(tk_outfmt fmt)
{
    return fmt == TK_OUT_UCL ? RK_EMIT_UCL : fmt == TK_OUT_COMPACT ? RK_EMIT_COMPACT : RK_EMIT_JSON;
}

/* A value from the library's emitter, then a newline. */
static void put_emitted(FILE *f, char *s, size_t len)
{
    if (s) {
        fwrite(s, 1, len, f);
        free(s);
    }
    fputc('\n', f);
}

void tk_dump_reply(FILE *f, const rk_result *r, tk_outfmt fmt, const char *filename, double t)
{
    size_t len = 0;
    char *s = rk_emit_reply(r->json, tk_emit_format(fmt), filename, t, &len);
    put_emitted(f, s, len);
}

void tk_dump_error(FILE *f, tk_outfmt fmt, const char *filename, const char *msg)
{
    size_t len = 0;
    char *s = rk_emit_error(tk_emit_format(fmt), filename, msg, &len);
    put_emitted(f, s, len);
}

void tk_heading(FILE *f, tk_outfmt fmt, const char *kind, const char *name, double t)
{
    if (fmt != TK_OUT_TEXT && fmt != TK_OUT_UCL)
        return;
    fprintf(f, "Results for %s: %s%s%s (", kind, tk_bold(), name, tk_reset());
    tk_print_time(f, t);
    fputs(" seconds)\n", f);
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
