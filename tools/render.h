/* Output shared by the tools: rspamc's result framing and JSON/UCL dumps. */
#ifndef TK_RENDER_H
#define TK_RENDER_H
#include <stdio.h>
#include "rspamkit.h"

typedef enum { TK_OUT_TEXT, TK_OUT_JSON, TK_OUT_COMPACT, TK_OUT_UCL } tk_outfmt;

/* Terminal emphasis (bold / 24-bit colours) when enabled. */
extern int tk_color;
const char *tk_bold(void);
const char *tk_reset(void);
/* Decide once: stdout is a terminal and NO_COLOR is unset. */
void tk_color_init(void);

/* The library's emitter format for -j, --compact, --ucl. */
rk_emit_format tk_emit_format(tk_outfmt fmt);

/* rspamc's %.3g elapsed-time format. */
void tk_print_time(FILE *f, double t);

/* Dump `reply` (JSON/UCL) with "filename" (when non-NULL) and "scan_time"
 * appended to a top-level object, followed by a newline. */
void tk_dump_reply(FILE *f, const rk_result *r, tk_outfmt fmt, const char *filename, double t);

/* A failure as one JSON value: {"filename": ..., "error": ...}. */
void tk_dump_error(FILE *f, tk_outfmt fmt, const char *filename, const char *msg);

/* --headers: reply headers, then an empty line. */
void tk_print_headers(FILE *f, const rk_response *resp);

/* rspamc's heading, "Results for KIND: NAME (T seconds)", printed only in
 * text and UCL output. KIND is "file" or "command". */
void tk_heading(FILE *f, tk_outfmt fmt, const char *kind, const char *name, double t);

/* "LABEL: PREFIXMSG", malloc'd (NULL when out of memory). */
char *tk_line(const char *label, const char *prefix, const char *msg);
#endif
