/* Unit tests of the library's message layer on its own (lib/message/message.c):
 * the end of the header block, the typed milter block, the header edits a
 * milter applies and the rewritten message a delivery agent writes, every
 * byte of the message kept; and mbox splitting (lib/message/mbox.c). */
#include "config.h"
#include "internal.h"
#include "message/message.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------ end of the headers */

static void eoh(const char *msg, size_t len, size_t pos, const char *eol, int found, int need)
{
    rk_eoh e;
    rk_find_eoh((const unsigned char *)msg, len, &e);
    ok(e.pos == pos && !strcmp(e.eol, eol) && e.found == found && e.need_eol == need,
       "eoh of %zu-byte message: pos %zu (want %zu) eol %zu found %d need %d", len, e.pos, pos,
       strlen(e.eol), e.found, e.need_eol);
}
#define EOH(m, pos, eol, found, need) eoh(m, sizeof(m) - 1, pos, eol, found, need)

static void test_eoh(void)
{
    EOH("A: b\nC: d\n\nbody\n", 10, "\n", 1, 0);
    EOH("A: b\r\nC: d\r\n\r\nbody\r\n", 12, "\r\n", 1, 0);
    EOH("A: b\rC: d\r\rbody\r", 10, "\r", 1, 0);
    EOH("A: b\nC: d\n", 10, "\n", 0, 0);         /* headers only */
    EOH("A: b\r\nC: d", 10, "\r\n", 0, 1);       /* headers only, no final line end */
    EOH("A: b", 4, "\n", 0, 1);
    EOH("\nbody\n\nmore\n", 0, "\n", 1, 0);       /* empty header block */
    EOH("\r\nbody\r\n", 0, "\r\n", 1, 0);
    EOH("A: b\n  folded\n\nbody", 14, "\n", 1, 0);
    EOH("From a@b Sat Jan  1 00:00:00 2000\nA: b\n\nx", 39, "\n", 1, 0);
    EOH("A: b\n \nC: d\n\nbody", 5, "\n", 1, 0);   /* blank-only line ends it (as Rspamd) */
    EOH("A: b\r\nC: d\n\nbody", 11, "\n", 1, 0);  /* mixed: the last line's ending */
    EOH("A: \0b\nC: d\n\nbo\0dy", 11, "\n", 1, 0);
    EOH("", 0, "\n", 0, 0);
    /* found by tests/fuzz (message): never after lines of only blanks, as
     * one would end the block before the added fields */
    EOH("A: b\n\t\n\r\nbody", 5, "\n", 1, 0);
    EOH("A: b\n\v", 5, "\n", 0, 0);
    EOH("  \r\r  \r", 3, "\r", 1, 0);         /* the first line follows no break */
    EOH("A: 1\r\r\n\r\nb", 5, "\r", 1, 0);     /* not between the CR and LF */
    EOH("A: x\r   \r\r \r \r", 5, "\r", 1, 0); /* nor after an empty line Rspamd read past */
}

/* ------------------------------------------------------------- helpers */

static int parse(const char *reply, unsigned flags, rk_result *r)
{
    rk_error err;
    rk_error_clear(&err);
    return rk_result_parse((const unsigned char *)reply, strlen(reply), 0, flags, r, &err);
}

static unsigned char *flatten(const rk_rewrite *o, size_t *len)
{
    unsigned char *p = malloc(o->total + 1), *q = p;
    if (!p)
        return NULL;
    for (size_t i = 0; i < o->n; i++) {
        memcpy(q, o->iov[i].iov_base, o->iov[i].iov_len);
        q += o->iov[i].iov_len;
    }
    *len = o->total;
    return p;
}

enum { NO_RESULT = -1 };

/* The rewritten message for `msg` and `reply` (NULL: the scan failed with
 * `error`); result_fmt NO_RESULT or an rk_emit_format for X-Spam-Result. */
static char *rewrite(const char *msg, size_t len, const char *reply, const char *error,
                     rk_header_style style, int keep, int result_fmt, size_t *outlen)
{
    rk_result r;
    memset(&r, 0, sizeof r);
    if (reply && parse(reply, result_fmt != NO_RESULT ? RK_RESULT_TREE : 0, &r))
        return NULL;
    rk_message_opts mo = {style, keep, "rspamkit T", 0.0, error, result_fmt != NO_RESULT,
                          result_fmt == NO_RESULT ? RK_EMIT_JSON : (rk_emit_format)result_fmt, 0};
    rk_rewrite out;
    int rc = rk_message_rewrite((const unsigned char *)msg, len, reply ? &r : NULL, &mo, &out, NULL);
    unsigned char *flat = rc ? NULL : flatten(&out, outlen);
    rk_rewrite_clear(&out);
    rk_result_clear(&r);
    return (char *)flat;
}

static void check(const char *name, const char *msg, size_t len, const char *reply,
                  const char *error, rk_header_style style, int keep, int fmt, const char *want,
                  size_t wantlen)
{
    size_t n = 0;
    char *got = rewrite(msg, len, reply, error, style, keep, fmt, &n);
    int same = got && n == wantlen && memcmp(got, want, n) == 0;
    ok(same, "%s", name);
    if (!same && got) {
        printf("#   got (%zu):\n", n);
        fwrite(got, 1, n, stdout);
        printf("\n#   want (%zu):\n", wantlen);
        fwrite(want, 1, wantlen, stdout);
        printf("\n");
    }
    free(got);
}
#define CHECK(name, msg, reply, error, style, keep, fmt, want) \
    check(name, msg, sizeof(msg) - 1, reply, error, style, keep, fmt, want, sizeof(want) - 1)

/* The edits as one line: "-Name#i" "=Name#i:value" "+Name:value". */
static char *edits_text(const char *msg, size_t len, const char *reply, rk_header_style style,
                        int keep)
{
    rk_result r;
    rk_edits e;
    if (reply && parse(reply, 0, &r))
        return NULL;
    rk_message_opts mo = {style, keep, "T", 0.0, "err", 0, RK_EMIT_JSON, 0};
    if (rk_message_edits((const unsigned char *)msg, len, reply ? &r : NULL, &mo, &e, NULL)) {
        if (reply)
            rk_result_clear(&r);
        return NULL;
    }
    rk_buf b = {0};
    for (size_t i = 0; i < e.n; i++) {
        const rk_edit *x = &e.v[i];
        if (x->kind == RK_EDIT_REMOVE)
            rk_buf_printf(&b, "%s-%s#%zu", i ? " " : "", x->name, x->index);
        else if (x->kind == RK_EDIT_CHANGE)
            rk_buf_printf(&b, "%s=%s#%zu:%s", i ? " " : "", x->name, x->index, x->value);
        else
            rk_buf_printf(&b, "%s+%s:%s", i ? " " : "", x->name, x->value);
    }
    rk_buf_append(&b, "", 0);
    rk_edits_clear(&e);
    if (reply)
        rk_result_clear(&r);
    return (char *)b.p;
}

static const char *const reply_f3 =
    "{\"score\":6.4,\"required_score\":15.0,\"action\":\"add header\",\"symbols\":{"
    "\"B_SYM\":{\"name\":\"B_SYM\",\"score\":4.0},\"A_SYM\":{\"name\":\"A_SYM\",\"score\":2.4,"
    "\"options\":[\"x\"]},\"C_SYM\":{\"name\":\"C_SYM\",\"score\":0.0}},"
    "\"milter\":{\"remove_headers\":{\"X-Spam\":0}}}";

static const char *const reply_milter =
    "{\"score\":1,\"required_score\":15,\"action\":\"no action\",\"symbols\":{\"S\":{\"score\":1}},"
    "\"milter\":{\"remove_headers\":{\"X-Foo\":2,\"X-Bar\":-1,\"X-Baz\":0,\"X-Nope\":1,\"X-Real\":1.5},"
    "\"add_headers\":{\"X-Added\":\"yes\",\"X-Obj\":{\"value\":\"v\",\"order\":0},"
    "\"X-Arr\":[\"one\",{\"value\":\"two\"},7,[\"no\"]],\"X-Fold\":\"a\\nb\",\"Bad Name\":\"x\","
    "\"X-Num\":5}}}";

static const char msg_milter[] =
    "A: 1\nX-Foo: f1\nX-Foo: f2\nX-Bar: b1\nX-Bar: b2\nX-Baz: z1\nX-Baz: z2\nX-Added: old\n\nbody\n";

/* ------------------------------------------------------------- the reply */

static void test_reply(void)
{
    rk_result r;
    ok(parse(reply_milter, 0, &r) == 0, "milter reply parses");
    ok(r.n_milter_remove == 4, "remove_headers: the 4 integer entries (%zu)", r.n_milter_remove);
    ok(r.n_milter_remove == 4 && !strcmp(r.milter_remove[0].name, "X-Foo") &&
           r.milter_remove[0].index == 2 && r.milter_remove[1].index == -1 &&
           r.milter_remove[2].index == 0 && !strcmp(r.milter_remove[3].name, "X-Nope"),
       "remove_headers typed, in server order");
    static const char *const want[][2] = {{"X-Added", "yes"}, {"X-Obj", "v"}, {"X-Arr", "one"},
                                          {"X-Arr", "two"}, {"X-Fold", "a\nb"}, {"Bad Name", "x"}};
    int same = r.n_milter_add == 6;
    for (size_t i = 0; same && i < 6; i++)
        same = !strcmp(r.milter_add[i].name, want[i][0]) && !strcmp(r.milter_add[i].value, want[i][1]);
    ok(same, "add_headers typed: strings, {value}, arrays of either, in order (%zu)", r.n_milter_add);
    ok(!r.has_reject, "no thresholds: no reject score");
    rk_result_clear(&r);

    ok(parse("{\"milter\":{\"add_headers\":{\"X\":\"1\"}},\"milter\":{\"remove_headers\":{\"Y\":0}},"
             "\"thresholds\":{\"reject\":20,\"add header\":6}}", 0, &r) == 0 &&
           r.n_milter_add == 0 && r.n_milter_remove == 1 && r.has_reject && r.reject_score == 20 &&
           r.thresholds,
       "milter given twice: the last counts; thresholds.reject read, thresholds kept");
    rk_result_clear(&r);
    ok(parse("{\"milter\":{\"add_headers\":{\"X\":{\"value\":\"a\",\"value\":\"b\"}}}}", 0, &r) == 0 &&
           r.n_milter_add == 1 && !strcmp(r.milter_add[0].value, "b"),
       "{value} given twice: the last counts");
    rk_result_clear(&r);
    ok(parse("{\"milter\":{\"remove_headers\":{\"X\":99999999999999999999}}}", 0, &r) == -1,
       "an integer too big is refused, as jansson does");
}

static void test_scan_exchange(void)
{
    rk_headers base = {0}, h = {0};
    rk_headers_add(&base, "IP", "192.0.2.1");
    rk_request req;
    const unsigned char m[] = "A: b\n\nc\n";
    ok(rk_scan_request(&req, &h, &base, "f.eml", "/abs/f.eml", m, sizeof m - 1) == 0 &&
           !strcmp(req.path, "/checkv2") && !req.method && req.body == m && req.headers == &h &&
           h.n == 3 && !strcmp(rk_headers_get(&h, "IP"), "192.0.2.1") &&
           !strcmp(rk_headers_get(&h, "Filename"), "f.eml") &&
           !strcmp(rk_headers_get(&h, "File"), "/abs/f.eml"),
       "scan request: /checkv2, base headers, Filename, File");
    rk_headers_clear(&h);
    rk_scan_request(&req, &h, NULL, "x", NULL, m, sizeof m - 1);
    ok(h.n == 1 && !rk_headers_get(&h, "File"), "scan request without File");
    rk_headers_clear(&h);
    rk_headers_clear(&base);

    /* A reply with a rewritten message after Message-Offset. */
    static const char body[] = "{\"action\":\"rewrite subject\",\"subject\":\"S\",\"score\":1}"
                               "Subject: new\n\nnew body\n";
    rk_response resp;
    memset(&resp, 0, sizeof resp);
    resp.status = 200;
    resp.reason = (char *)"OK";
    resp.body = (unsigned char *)body;
    resp.body_len = sizeof body - 1;
    char off[16];
    snprintf(off, sizeof off, "%zu", strlen("{\"action\":\"rewrite subject\",\"subject\":\"S\",\"score\":1}"));
    rk_headers_add(&resp.headers, "Message-Offset", off);
    rk_error ok_err, why;
    rk_error_clear(&ok_err);
    rk_result r;
    ok(rk_scan_result(&resp, &ok_err, 0, &r, &why) == 0 && r.rewritten &&
           r.rewritten_len == strlen("Subject: new\n\nnew body\n") && r.score == 1,
       "scan result: JSON, then the rewritten message after Message-Offset");
    rk_message_opts mo = {RK_STYLE_RSPAMC, 0, "T", 0.0, NULL, 0, RK_EMIT_JSON, 0};
    rk_rewrite out;
    size_t n = 0;
    unsigned char *flat = NULL;
    if (rk_message_rewrite(NULL, 0, &r, &mo, &out, NULL) == 0) {
        flat = flatten(&out, &n);
        rk_rewrite_clear(&out);
    }
    static const char want[] = "Subject: new\nX-Spam-Scanner: T\nX-Spam-Scan-Time: 0\nX-Spam: yes\n"
                               "X-Spam-Action: rewrite subject\nX-Spam-Score: 1.00 / 0.00\n"
                               "X-Spam-Level: *\nX-Spam-Symbols: \n\nnew body\n";
    ok(flat && n == sizeof want - 1 && !memcmp(flat, want, n),
       "the rewritten message is the one edited; its Subject is the server's");
    free(flat);
    rk_result_clear(&r);
    rk_headers_clear(&resp.headers);

    /* An HTTP error with {"error": ...}, a reply that is not JSON. */
    static const char ebody[] = "{\"error\":\"message too big\"}";
    resp.status = 413;
    resp.reason = (char *)"Payload Too Large";
    resp.body = (unsigned char *)ebody;
    resp.body_len = sizeof ebody - 1;
    rk_error herr;
    rk_error_clear(&herr);
    herr.code = RK_ERR_HTTP;
    herr.http_status = 413;
    snprintf(herr.msg, sizeof herr.msg, "HTTP error: 413, Payload Too Large");
    ok(rk_scan_result(&resp, &herr, 0, &r, &why) == -1 && why.code == RK_ERR_HTTP &&
           !strcmp(why.msg, "HTTP error: 413, message too big"),
       "HTTP error: the server's error text (%s)", why.msg);
    resp.status = 200;
    resp.reason = (char *)"OK";
    resp.body = (unsigned char *)"nope";
    resp.body_len = 4;
    resp.host = (char *)"h:1";
    ok(rk_scan_result(&resp, &ok_err, 0, &r, &why) == -1 && why.code == RK_ERR_PROTOCOL &&
           !strncmp(why.msg, "bad reply from h:1: cannot parse reply", 38),
       "bad reply names the host (%s)", why.msg);
}

/* --------------------------------------------------------- the rewrite */

static void test_rewrite(void)
{
    CHECK("rspamc set, LF (spec 4.4)", "From: a@example.com\nTo: b@example.org\nSubject: t\n\nbody line 1\nbody line 2\n",
          reply_f3, NULL, RK_STYLE_RSPAMC, 1, NO_RESULT,
          "From: a@example.com\nTo: b@example.org\nSubject: t\n"
          "X-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0\nX-Spam: yes\nX-Spam-Action: add header\n"
          "X-Spam-Score: 6.40 / 15.00\nX-Spam-Level: *******\n"
          "X-Spam-Symbols: B_SYM,\n\tA_SYM,\n\tC_SYM\n\nbody line 1\nbody line 2\n");
    CHECK("rspamc set, CRLF", "From: a\r\nSubject: t\r\n\r\nbody\r\n", reply_f3, NULL,
          RK_STYLE_RSPAMC, 1, NO_RESULT,
          "From: a\r\nSubject: t\r\nX-Spam-Scanner: rspamkit T\r\nX-Spam-Scan-Time: 0\r\n"
          "X-Spam: yes\r\nX-Spam-Action: add header\r\nX-Spam-Score: 6.40 / 15.00\r\n"
          "X-Spam-Level: *******\r\nX-Spam-Symbols: B_SYM,\r\n\tA_SYM,\r\n\tC_SYM\r\n\r\nbody\r\n");
    CHECK("bare CR", "From: a\rSubject: t\r\rbody\r", NULL, "e", RK_STYLE_RSPAMC, 0, NO_RESULT,
          "From: a\rSubject: t\rX-Spam-Scanner: rspamkit T\rX-Spam-Scan-Time: 0.000\r"
          "X-Spam-Error: e\r\rbody\r");
    CHECK("mixed endings: the last header line's ending, the rest untouched",
          "From: a\r\nTo: b\n\nbo\rdy\r\n", NULL, "e", RK_STYLE_RSPAMC, 0, NO_RESULT,
          "From: a\r\nTo: b\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0.000\n"
          "X-Spam-Error: e\n\nbo\rdy\r\n");
    CHECK("earlier X-Spam headers removed by default, folded ones too",
          "From: a\nX-Spam: yes\nX-Spam-Status: old\nX-Spam-Score: 99\nX-Spam-Symbols: A,\n\tB\nTo: b\n\nbody\n",
          "{\"score\":-1.5,\"required_score\":15.0,\"action\":\"no action\",\"symbols\":{}}", NULL,
          RK_STYLE_RSPAMC, 0, NO_RESULT,
          "From: a\nX-Spam-Status: old\nTo: b\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0\n"
          "X-Spam-Action: no action\nX-Spam-Score: -1.50 / 15.00\nX-Spam-Level: \nX-Spam-Symbols: \n\nbody\n");
    CHECK("keep_existing keeps them", "From: a\nX-Spam: yes\n\nb\n",
          "{\"score\":0,\"required_score\":15,\"action\":\"no action\",\"symbols\":{},"
          "\"milter\":{\"remove_headers\":{\"X-Spam\":0}}}", NULL, RK_STYLE_RSPAMC, 1, NO_RESULT,
          "From: a\nX-Spam: yes\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0\n"
          "X-Spam-Action: no action\nX-Spam-Score: 0.00 / 15.00\nX-Spam-Level: \nX-Spam-Symbols: \n\nb\n");
    /* milter: remove_headers applies to the headers the message came with;
     * add_headers come after ours and are not removed. */
    CHECK("milter remove (Nth, last, all) then add", msg_milter, reply_milter,
          NULL, RK_STYLE_RSPAMC, 0, NO_RESULT,
          "A: 1\nX-Foo: f1\nX-Bar: b1\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0\n"
          "X-Spam-Action: no action\nX-Spam-Score: 1.00 / 15.00\nX-Spam-Level: *\nX-Spam-Symbols: S\n"
          "X-Added: yes\nX-Obj: v\nX-Arr: one\nX-Arr: two\nX-Fold: a\n\tb\n\nbody\n");
    CHECK("remove_headers positions as an array (Rspamd 4.x remove_ar_from): the 1st and 3rd as received",
          "From: a\nAuthentication-Results: one\nAuthentication-Results: two\n"
          "Authentication-Results: three\n\nb\n",
          "{\"score\":0,\"required_score\":15,\"action\":\"no action\",\"symbols\":{},"
          "\"milter\":{\"remove_headers\":{\"Authentication-Results\":[1,3,\"x\",9]}}}", NULL,
          RK_STYLE_RSPAMC, 0, NO_RESULT,
          "From: a\nAuthentication-Results: two\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0\n"
          "X-Spam-Action: no action\nX-Spam-Score: 0.00 / 15.00\nX-Spam-Level: \nX-Spam-Symbols: \n\nb\n");
    CHECK("symbol names that start with or are a line break: no line of blanks (fuzz finding)",
          "From: a\n\nbody\n",
          "{\"score\":0,\"required_score\":15,\"action\":\"no action\",\"symbols\":{"
          "\"A\":{},\"\\r\\n_B\":{},\"\\r\\n\":{}}}", NULL, RK_STYLE_RSPAMC, 1, NO_RESULT,
          "From: a\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0\nX-Spam-Action: no action\n"
          "X-Spam-Score: 0.00 / 15.00\nX-Spam-Level: \nX-Spam-Symbols: A,\n\t_B,\n\nbody\n");
    CHECK("our own X-Spam survives the server's remove_headers",
          "From: a\nX-Spam: yes\n\nb\n", reply_f3, NULL, RK_STYLE_RSPAMC, 0, NO_RESULT,
          "From: a\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0\nX-Spam: yes\n"
          "X-Spam-Action: add header\nX-Spam-Score: 6.40 / 15.00\nX-Spam-Level: *******\n"
          "X-Spam-Symbols: B_SYM,\n\tA_SYM,\n\tC_SYM\n\nb\n");
    CHECK("DKIM-Signature and Received from the server are added, old ones kept",
          "Received: x\nDKIM-Signature: old\n\nb\n",
          "{\"score\":0,\"action\":\"no action\",\"dkim-signature\":\"v=1; d=x\",\"milter\":{"
          "\"add_headers\":{\"Received\":\"r\",\"DKIM-Signature\":\"m\"}}}",
          NULL, RK_STYLE_RSPAMC, 0, NO_RESULT,
          "Received: x\nDKIM-Signature: old\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0\n"
          "X-Spam-Action: no action\nX-Spam-Score: 0.00 / 0.00\nX-Spam-Level: \nX-Spam-Symbols: \n"
          "DKIM-Signature: v=1; d=x\nReceived: r\nDKIM-Signature: m\n\nb\n");
    CHECK("scan failed: rspamc's error set", "From: a\nSubject: t\n\nbody\n", NULL,
          "cannot connect to 127.0.0.1:1: Connection refused", RK_STYLE_RSPAMC, 0, NO_RESULT,
          "From: a\nSubject: t\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0.000\n"
          "X-Spam-Error: cannot connect to 127.0.0.1:1: Connection refused\n\nbody\n");
    CHECK("scan failed without a reason", "A: b\n\nc", NULL, NULL, RK_STYLE_RSPAMC, 0, NO_RESULT,
          "A: b\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0.000\nX-Spam-Error: scan failed\n\nc");
    CHECK("headers only, no final newline", "From: a\r\nSubject: t", NULL, "e", RK_STYLE_RSPAMC,
          0, NO_RESULT,
          "From: a\r\nSubject: t\r\nX-Spam-Scanner: rspamkit T\r\nX-Spam-Scan-Time: 0.000\r\n"
          "X-Spam-Error: e\r\n");
    /* found by tests/fuzz (message) */
    CHECK("headers only, the last field removed: no empty line before the added ones",
          "A: b\nX-Spam: yes", NULL, "e", RK_STYLE_RSPAMC, 0, NO_RESULT,
          "A: b\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0.000\nX-Spam-Error: e\n");
    CHECK("a value never folds into a line of only blanks", "A: b\n\nc", NULL, "x \n \t\n\fy\n ",
          RK_STYLE_RSPAMC, 0, NO_RESULT,
          "A: b\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0.000\nX-Spam-Error: x \n\t\fy\n\nc");
    CHECK("no blank line: the fields go at the end", "From: a\nTo: b\n", NULL, "e",
          RK_STYLE_RSPAMC, 0, NO_RESULT,
          "From: a\nTo: b\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0.000\nX-Spam-Error: e\n");
    CHECK("no body after the blank line", "From: a\n\n", NULL, "e", RK_STYLE_RSPAMC, 0, NO_RESULT,
          "From: a\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0.000\nX-Spam-Error: e\n\n");
    CHECK("empty input: only the added fields", "", NULL, "e", RK_STYLE_RSPAMC, 0, NO_RESULT,
          "X-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0.000\nX-Spam-Error: e\n");
    CHECK("mbox From_ line stays first, NUL bytes kept",
          "From x@y Sat Jan  1 00:00:00 2000\nSubject: \0t\n\nbo\0dy\n", NULL, "e", RK_STYLE_RSPAMC,
          0, NO_RESULT,
          "From x@y Sat Jan  1 00:00:00 2000\nSubject: \0t\nX-Spam-Scanner: rspamkit T\n"
          "X-Spam-Scan-Time: 0.000\nX-Spam-Error: e\n\nbo\0dy\n");
    CHECK("8-bit header and body bytes kept", "S: caf\xc3\xa9 \xff\n\n\x80\x81\xfe\n", NULL, "e",
          RK_STYLE_RSPAMC, 0, NO_RESULT,
          "S: caf\xc3\xa9 \xff\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0.000\n"
          "X-Spam-Error: e\n\n\x80\x81\xfe\n");
    CHECK("empty header block", "\nbody\n", NULL, "e", RK_STYLE_RSPAMC, 0, NO_RESULT,
          "X-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0.000\nX-Spam-Error: e\n\nbody\n");
    CHECK("a multi-line error becomes a folded value", "A: b\n\nc\n", NULL, "one\ntwo\r\n",
          RK_STYLE_RSPAMC, 0, NO_RESULT,
          "A: b\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0.000\nX-Spam-Error: one\n\ttwo\n\nc\n");
    CHECK("spamassassin style", "From: a\nX-Spam-Flag: YES\nX-Spam-Status: No\n\nb\n",
          "{\"score\":16.9,\"required_score\":15,\"action\":\"reject\",\"symbols\":{"
          "\"AAAAAAAAAAAAAAAA\":{},\"BBBBBBBBBBBBBBBB\":{},\"CCCCCCCCCCCCCCCC\":{},\"DDDD\":{}}}",
          NULL, RK_STYLE_SPAMASSASSIN, 0, NO_RESULT,
          "From: a\nX-Spam-Scanner: rspamkit T\nX-Spam-Flag: YES\n"
          "X-Spam-Status: Yes, score=16.9 required=15.0 tests=AAAAAAAAAAAAAAAA,\n"
          "\tBBBBBBBBBBBBBBBB,CCCCCCCCCCCCCCCC,DDDD\nX-Spam-Level: ****************\n\nb\n");
    CHECK("spamassassin style, ham", "From: a\n\nb\n",
          "{\"score\":0.5,\"required_score\":15,\"action\":\"no action\",\"symbols\":{}}", NULL,
          RK_STYLE_SPAMASSASSIN, 0, NO_RESULT,
          "From: a\nX-Spam-Scanner: rspamkit T\n"
          "X-Spam-Status: No, score=0.5 required=15.0 tests=none\nX-Spam-Level: \n\nb\n");
    CHECK("subject rewrite in place (8-bit: RFC 2047)",
          "From: a\nSubject: old\nTo: b\n\nb\n",
          "{\"score\":9,\"required_score\":15,\"action\":\"rewrite subject\","
          "\"subject\":\"*** SPAM *** caf\\u00e9\",\"symbols\":{}}", NULL, RK_STYLE_RSPAMC, 0,
          NO_RESULT,
          "From: a\nSubject: =?UTF-8?B?KioqIFNQQU0gKioqIGNhZsOp?=\nTo: b\nX-Spam-Scanner: rspamkit T\n"
          "X-Spam-Scan-Time: 0\nX-Spam: yes\nX-Spam-Action: rewrite subject\n"
          "X-Spam-Score: 9.00 / 15.00\nX-Spam-Level: *********\nX-Spam-Symbols: \n\nb\n");
    CHECK("subject rewrite without a Subject: added; long 8-bit subject folded into words",
          "From: a\r\n\r\nb",
          "{\"score\":9,\"action\":\"rewrite_subject\",\"subject\":"
          "\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
          "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9x\"}",
          NULL, RK_STYLE_RSPAMC, 0, NO_RESULT,
          "From: a\r\nX-Spam-Scanner: rspamkit T\r\nX-Spam-Scan-Time: 0\r\nX-Spam: yes\r\n"
          "X-Spam-Action: rewrite_subject\r\nX-Spam-Score: 9.00 / 0.00\r\nX-Spam-Level: *********\r\n"
          "X-Spam-Symbols: \r\n"
          "Subject: =?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6k=?=\r\n"
          " =?UTF-8?B?w6nDqXg=?=\r\n\r\nb");
    CHECK("X-Spam-Result, compact, folded at 60", "A: b\n\nc\n",
          "{\"score\":1,\"action\":\"no action\",\"symbols\":{}}", NULL, RK_STYLE_RSPAMC, 1,
          RK_EMIT_COMPACT,
          "A: b\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0\nX-Spam-Action: no action\n"
          "X-Spam-Score: 1.00 / 0.00\nX-Spam-Level: *\nX-Spam-Symbols: \n"
          "X-Spam-Result: eyJzY29yZSI6MSwiYWN0aW9uIjoibm8gYWN0aW9uIiwic3ltYm9scyI6e319\n\nc\n");
    CHECK("X-Spam-Result longer than 60: continuation lines", "A: b\r\n\r\nc",
          "{\"score\":1,\"action\":\"no action\",\"symbols\":{\"SYMBOL\":{}}}", NULL, RK_STYLE_RSPAMC,
          1, RK_EMIT_COMPACT,
          "A: b\r\nX-Spam-Scanner: rspamkit T\r\nX-Spam-Scan-Time: 0\r\nX-Spam-Action: no action\r\n"
          "X-Spam-Score: 1.00 / 0.00\r\nX-Spam-Level: *\r\nX-Spam-Symbols: SYMBOL\r\n"
          "X-Spam-Result: eyJzY29yZSI6MSwiYWN0aW9uIjoibm8gYWN0aW9uIiwic3ltYm9scyI6eyJT\r\n"
          "\tWU1CT0wiOnt9fX0=\r\n\r\nc");
    CHECK("X-Spam-Level capped at 32", "A: b\n\nc\n",
          "{\"score\":31.5,\"required_score\":100,\"action\":\"no action\",\"symbols\":{}}", NULL,
          RK_STYLE_RSPAMC, 1, NO_RESULT,
          "A: b\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0\nX-Spam-Action: no action\n"
          "X-Spam-Score: 31.50 / 100.00\nX-Spam-Level: ********************************\n"
          "X-Spam-Symbols: \n\nc\n");
}

/* Very long lines: kept byte for byte, and the body is never copied. */
static void test_long(void)
{
    size_t hl = 200000, bl = 3000000, len = hl + 20 + bl;
    unsigned char *m = malloc(len);
    if (!m) {
        ok(0, "malloc");
        return;
    }
    memcpy(m, "X-Long: ", 8);
    memset(m + 8, 'h', hl - 8);
    memcpy(m + hl, "\nX-Spam: old\n\n", 14);
    size_t body = hl + 14;
    memset(m + body, 'b', len - body - 1);
    m[len - 1] = '\n';
    rk_result r;
    parse(reply_f3, 0, &r);
    rk_message_opts mo = {RK_STYLE_RSPAMC, 0, "T", 0.0, NULL, 0, RK_EMIT_JSON, 0};
    rk_rewrite out;
    int rc = rk_message_rewrite(m, len, &r, &mo, &out, NULL);
    int in_place = !rc && out.n >= 2 && out.iov[out.n - 1].iov_base == (void *)(m + hl + 13) &&
                   out.iov[0].iov_base == (void *)m && out.iov[0].iov_len == hl + 1;
    ok(in_place, "a 3 MB body and a 200 kB header line are slices of the original (%zu slices)",
       out.n);
    size_t n = 0;
    unsigned char *flat = rc ? NULL : flatten(&out, &n);
    size_t added = out.iov[1].iov_len;
    ok(flat && n == len - strlen("X-Spam: old\n") + added && !memcmp(flat, m, hl + 1) &&
           !memcmp(flat + n - (len - hl - 13), m + hl + 13, len - hl - 13),
       "every byte kept but the removed field");
    free(flat);
    rk_rewrite_clear(&out);
    rk_result_clear(&r);
    free(m);
}

/* ------------------------------------------------------------ the edits */

/* Apply edits the way a milter's MTA does, to an LF message: remove by
 * name and index among the current fields, change, append. */
static char *apply_edits(const char *msg, const rk_edits *e)
{
    const char *end = strstr(msg, "\n\n");
    size_t hlen = end ? (size_t)(end - msg) + 1 : strlen(msg);
    char *fields[64];
    size_t nf = 0;
    for (size_t i = 0; i < hlen && nf < 64;) {
        size_t j = i;
        do {
            j = (size_t)(strchr(msg + j, '\n') - msg) + 1;
        } while (j < hlen && (msg[j] == ' ' || msg[j] == '\t'));
        fields[nf++] = strndup(msg + i, j - i);
        i = j;
    }
    rk_buf tail = {0};
    for (size_t k = 0; k < e->n; k++) {
        const rk_edit *x = &e->v[k];
        if (x->kind == RK_EDIT_ADD) {
            rk_buf_printf(&tail, "%s: %s\n", x->name, x->value);
            continue;
        }
        size_t seen = 0, nl = strlen(x->name);
        for (size_t i = 0; i < nf; i++)
            if (fields[i] && !strncasecmp(fields[i], x->name, nl) && fields[i][nl] == ':' &&
                ++seen == x->index) {
                free(fields[i]);
                fields[i] = NULL;
                if (x->kind == RK_EDIT_CHANGE && asprintf(&fields[i], "%s: %s\n", x->name, x->value) < 0)
                    fields[i] = NULL;
                break;
            }
    }
    rk_buf out = {0};
    for (size_t i = 0; i < nf; i++) {
        if (fields[i])
            rk_buf_puts(&out, fields[i]);
        free(fields[i]);
    }
    if (tail.len)
        rk_buf_append(&out, tail.p, tail.len);
    rk_buf_puts(&out, msg + hlen);
    rk_buf_free(&tail);
    return (char *)out.p;
}

static void same_as_rewrite(const char *name, const char *msg, const char *reply)
{
    rk_result r;
    parse(reply, 0, &r);
    rk_message_opts mo = {RK_STYLE_RSPAMC, 0, "T", 0.25, NULL, 0, RK_EMIT_JSON, 0};
    rk_edits e;
    rk_rewrite out;
    char *applied = NULL;
    unsigned char *flat = NULL;
    size_t n = 0;
    if (rk_message_edits((const unsigned char *)msg, strlen(msg), &r, &mo, &e, NULL) == 0) {
        applied = apply_edits(msg, &e);
        rk_edits_clear(&e);
    }
    if (rk_message_rewrite((const unsigned char *)msg, strlen(msg), &r, &mo, &out, NULL) == 0) {
        flat = flatten(&out, &n);
        rk_rewrite_clear(&out);
    }
    ok(applied && flat && strlen(applied) == n && !memcmp(applied, flat, n),
       "edits applied in order give the rewritten message: %s", name);
    free(applied);
    free(flat);
    rk_result_clear(&r);
}

static void test_edits(void)
{
    char *t = edits_text(msg_milter, sizeof msg_milter - 1, reply_milter, RK_STYLE_RSPAMC, 0);
    is_str(t,
           "-X-Added#1 -X-Baz#2 -X-Baz#1 -X-Bar#2 -X-Foo#2 +X-Spam-Scanner:T "
           "+X-Spam-Scan-Time:0 +X-Spam-Action:no action +X-Spam-Score:1.00 / 15.00 "
           "+X-Spam-Level:* +X-Spam-Symbols:S +X-Added:yes +X-Obj:v +X-Arr:one +X-Arr:two "
           "+X-Fold:a\n\tb",
           "milter: removals last to first, then additions; invalid names skipped");
    free(t);
    static const char m1[] = "From: a\nX-Spam: yes\nSubject: s\n\nb\n";
    t = edits_text(m1, sizeof m1 - 1, reply_f3, RK_STYLE_RSPAMC, 0);
    is_str(t,
           "-X-Spam#1 +X-Spam-Scanner:T +X-Spam-Scan-Time:0 +X-Spam:yes +X-Spam-Action:add header "
           "+X-Spam-Score:6.40 / 15.00 +X-Spam-Level:******* +X-Spam-Symbols:B_SYM,\n\tA_SYM,\n\tC_SYM",
           "remove-before-add: the old X-Spam goes, ours is added after");
    free(t);
    t = edits_text(m1, sizeof m1 - 1, reply_f3, RK_STYLE_RSPAMC, 1);
    ok(t && !strstr(t, "-X-Spam"), "keep_existing: no removals");
    free(t);
    static const char m2[] = "Subject: a\r\nSubject: b\r\n\r\nb";
    t = edits_text(m2, sizeof m2 - 1,
                   "{\"action\":\"rewrite subject\",\"subject\":\"NEW\",\"score\":2,"
                   "\"milter\":{\"remove_headers\":{\"Subject\":1}}}",
                   RK_STYLE_SPAMASSASSIN, 0);
    is_str(t,
           "-Subject#1 =Subject#1:NEW +X-Spam-Scanner:T +X-Spam-Flag:YES "
           "+X-Spam-Status:Yes, score=2.0 required=0.0 tests=none +X-Spam-Level:**",
           "the Subject left after the removals is changed in place");
    free(t);
    t = edits_text("", 0, NULL, RK_STYLE_RSPAMC, 0);
    is_str(t, "+X-Spam-Scanner:T +X-Spam-Scan-Time:0.000 +X-Spam-Error:err",
           "failed scan of an empty input: additions only");
    free(t);
    same_as_rewrite("milter block", msg_milter, reply_milter);
    same_as_rewrite("old X-Spam", (const char *)m1, reply_f3);
    same_as_rewrite("subject", "A: 1\nSubject: x\nsubject: y\n\nbody\n",
                    "{\"action\":\"rewrite subject\",\"subject\":\"S\",\"score\":2,"
                    "\"milter\":{\"remove_headers\":{\"SUBJECT\":1,\"A\":0}}}");
}

/* Property: for random messages (random bytes, line endings, NULs, colons,
 * folding), the output is the message with one block inserted at the end of
 * the header block: every byte of the input is there, in order. With
 * removal on, the body (everything from the end of the header block) is
 * still there byte for byte. */
static unsigned rng_state = 12345;
static unsigned rnd(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 16) & 0x7fff;
}

static void test_random(void)
{
    static const char alphabet[] = "aX-S:p m\t\r\n\n\n\0:\xe9";
    rk_result r;
    if (parse("{\"score\":3,\"required_score\":15,\"action\":\"no action\","
              "\"symbols\":{\"A\":{},\"B\":{}},\"milter\":{\"remove_headers\":{\"X-Spam\":0},"
              "\"add_headers\":{\"X-Spam-Foo\":\"v\\r\\nw\"}}}", 0, &r)) {
        ok(0, "parse reply");
        return;
    }
    int bad_keep = 0, bad_drop = 0;
    for (int round = 0; round < 20000; round++) {
        unsigned char msg[300];
        size_t len = rnd() % sizeof msg;
        for (size_t i = 0; i < len; i++)
            msg[i] = (unsigned char)alphabet[rnd() % (sizeof alphabet - 1)];
        if (len > 8 && rnd() % 3 == 0)
            memcpy(msg, "X-Spam: ", 8);
        rk_eoh e;
        rk_find_eoh(msg, len, &e);
        for (int keep = 0; keep < 2; keep++) {
            rk_message_opts mo = {keep ? RK_STYLE_RSPAMC : (rk_header_style)(round % 2), keep,
                                  "T", 0.0, "e", 0, RK_EMIT_JSON, 0};
            rk_rewrite out;
            size_t n;
            if (rk_message_rewrite(msg, len, round % 5 ? &r : NULL, &mo, &out, NULL)) {
                bad_keep++;
                continue;
            }
            unsigned char *got = flatten(&out, &n);
            rk_rewrite_clear(&out);
            size_t eol = e.need_eol ? strlen(e.eol) : 0;
            if (keep) {
                /* prefix, (eol), added block, suffix */
                if (!got || n < len + eol || memcmp(got, msg, e.pos) != 0 ||
                    memcmp(got + n - (len - e.pos), msg + e.pos, len - e.pos) != 0)
                    bad_keep++;
            } else {
                if (!got || n < len - e.pos || memcmp(got + n - (len - e.pos), msg + e.pos, len - e.pos) != 0)
                    bad_drop++;
            }
            free(got);
        }
    }
    rk_result_clear(&r);
    ok(bad_keep == 0, "20000 random messages: every byte kept, block inserted at the end of the headers (%d bad)", bad_keep);
    ok(bad_drop == 0, "20000 random messages with header removal: body untouched (%d bad)", bad_drop);
}

static void test_mbox(void)
{
    const char *one = "From a@b Sat Nov 21 10:00:00 2026\nSubject: x\n\nFrom here on\n";
    ok(!rk_mbox_is_multi((const unsigned char *)one, strlen(one)),
       "one message with a body line starting 'From ' is not split");
    const char *box = "From a@b Sat Nov 21 10:00:00 2026\nSubject: 1\n\nbody1\n\nFrom c@d Sun Nov 22 11:00:00 2026\nSubject: 2\n\nbody2\n";
    size_t *offs, *lens, n;
    ok(rk_mbox_is_multi((const unsigned char *)box, strlen(box)), "two messages detected");
    ok(rk_mbox_split((const unsigned char *)box, strlen(box), &offs, &lens, &n) == 0 && n == 2,
       "split into two");
    ok(offs[0] == 0 && lens[0] == strlen("From a@b Sat Nov 21 10:00:00 2026\nSubject: 1\n\nbody1\n"), "first part");
    ok(strncmp(box + offs[1], "From c@d", 8) == 0 &&
           lens[1] == strlen("From c@d Sun Nov 22 11:00:00 2026\nSubject: 2\n\nbody2\n"),
       "second part");
    free(offs);
    free(lens);
    const char *crlf = "From a 10:00:00\r\nS: 1\r\n\r\nb\r\n\r\nFrom c 11:00:00\r\nS: 2\r\n\r\nd\r\n";
    ok(rk_mbox_split((const unsigned char *)crlf, strlen(crlf), &offs, &lens, &n) == 0 && n == 2 &&
           lens[0] == strlen("From a 10:00:00\r\nS: 1\r\n\r\nb\r\n"),
       "CRLF mbox");
    free(offs);
    free(lens);
    /* found by tests/fuzz (split): a first "From " line without a time was
     * not a separator, and the message it started was dropped */
    const char *pre = "From nobody\n\nbody0\n\nFrom c 11:00:00\n\nd\n";
    ok(rk_mbox_is_multi((const unsigned char *)pre, strlen(pre)) &&
           rk_mbox_split((const unsigned char *)pre, strlen(pre), &offs, &lens, &n) == 0 && n == 2 &&
           offs[0] == 0 && lens[0] == strlen("From nobody\n\nbody0\n"),
       "what precedes the first separator is a message too");
    free(offs);
    free(lens);
    const char *blank = "\n\nFrom a 10:00:00\n\nb\n";
    ok(rk_mbox_split((const unsigned char *)blank, strlen(blank), &offs, &lens, &n) == 0 && n == 1 &&
           offs[0] == 2,
       "blank lines before the first separator are dropped");
    free(offs);
    free(lens);
}

/* ------------------------------------------- the server's version (rspamc) */

/* rspamc --mime adds milter.add_headers from Rspamd 3.14 on: with
 * keep_existing in the rspamc style (its output), a reply of an earlier
 * server gets none; otherwise, or for an unknown version, they are added. */
static const char reply_mh[] =
    "{\"score\":2,\"required_score\":15,\"action\":\"no action\",\"symbols\":{\"S\":{\"score\":2}},"
    "\"milter\":{\"add_headers\":{\"X-Spamd-Bar\":{\"order\":-1,\"value\":\"++\"},"
    "\"Authentication-Results\":{\"order\":1,\"value\":\"vm;\\n\\tnone\"},\"X-Plain\":\"p\","
    "\"X-Arr\":[\"a\",{\"value\":\"b\",\"order\":0}]},"
    "\"remove_headers\":{\"X-Spamd-Bar\":0,\"X-Spam\":0}}}";

static char *rewrite_version(const char *msg, rk_header_style style, int keep, int version)
{
    rk_result r;
    if (parse(reply_mh, 0, &r))
        return NULL;
    rk_message_opts mo = {.style = style, .keep_existing = keep, .scanner = "T",
                          .server_version = version};
    rk_rewrite out;
    size_t n = 0;
    unsigned char *flat = NULL;
    if (rk_message_rewrite((const unsigned char *)msg, strlen(msg), &r, &mo, &out, NULL) == 0) {
        flat = flatten(&out, &n);
        if (flat)
            flat[n] = 0;
        rk_rewrite_clear(&out);
    }
    rk_result_clear(&r);
    return (char *)flat;
}

static void test_server_version(void)
{
    static const char msg[] = "From: a\nX-Spamd-Bar: old\n\nbody\n";
    static const char ours[] = "From: a\nX-Spamd-Bar: old\nX-Spam-Scanner: T\nX-Spam-Scan-Time: 0\n"
                               "X-Spam-Action: no action\nX-Spam-Score: 2.00 / 15.00\n"
                               "X-Spam-Level: **\nX-Spam-Symbols: S\n";
    static const char milter[] = "X-Spamd-Bar: ++\nAuthentication-Results: vm;\n\tnone\n"
                                 "X-Plain: p\nX-Arr: a\nX-Arr: b\n";
    char with[512], without[512];
    snprintf(with, sizeof with, "%s%s\nbody\n", ours, milter);
    snprintf(without, sizeof without, "%s\nbody\n", ours);
    static const struct {
        int version;
        int added;
    } v[] = {{30400, 0}, {31201, 0}, {31303, 0}, {31400, 1}, {31402, 1}, {40105, 1}, {0, 1}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char *got = rewrite_version(msg, RK_STYLE_RSPAMC, 1, v[i].version);
        ok(got && !strcmp(got, v[i].added ? with : without),
           "keep_existing, server %d: milter.add_headers %s, as its rspamc --mime", v[i].version,
           v[i].added ? "added" : "not added");
        free(got);
    }
    /* Not rspamc's output: applied as a milter applies them, on every version. */
    char *got = rewrite_version(msg, RK_STYLE_RSPAMC, 0, 30400);
    ok(got && strstr(got, milter) && !strstr(got, "X-Spamd-Bar: old"),
       "without keep_existing, server 3.4: milter.add_headers added, old copies removed");
    free(got);
    got = rewrite_version(msg, RK_STYLE_SPAMASSASSIN, 1, 30400);
    ok(got && strstr(got, milter) && strstr(got, "X-Spamd-Bar: old"),
       "keep_existing in the spamassassin style, server 3.4: milter.add_headers added");
    free(got);
    /* spamc gives one X-Spam-Status and X-Spam-Level: the server's copies (its milter_headers
     * routines of those names) are not added in the spamassassin style; others are. */
    {
        static const char sa_reply[] =
            "{\"score\":2,\"required_score\":15,\"action\":\"no action\",\"symbols\":{},"
            "\"milter\":{\"add_headers\":{\"X-Spam-Status\":{\"value\":\"No, score=2.00\"},"
            "\"x-spam-level\":\"**\",\"X-Spamd-Bar\":\"++\"}}}";
        rk_result rs;
        char *sa = NULL;
        if (parse(sa_reply, 0, &rs) == 0) {
            rk_message_opts so = {.style = RK_STYLE_SPAMASSASSIN, .scanner = "T"};
            rk_rewrite out;
            size_t n = 0;
            if (rk_message_rewrite((const unsigned char *)msg, sizeof msg - 1, &rs, &so, &out,
                                   NULL) == 0) {
                sa = (char *)flatten(&out, &n);
                if (sa)
                    sa[n] = 0;
                rk_rewrite_clear(&out);
            }
            rk_result_clear(&rs);
        }
        ok(sa && !strcmp(sa, "From: a\nX-Spam-Scanner: T\n"
                              "X-Spam-Status: No, score=2.0 required=15.0 tests=none\n"
                              "X-Spam-Level: **\nX-Spamd-Bar: ++\n\nbody\n"),
           "spamassassin style: the server's X-Spam-Status and X-Spam-Level not added twice");
        free(sa);
    }
    /* The edits a milter applies follow the same rule. */
    rk_result r;
    rk_edits e;
    size_t adds = 0;
    rk_message_opts mo = {.style = RK_STYLE_RSPAMC, .keep_existing = 1, .server_version = 31201};
    if (parse(reply_mh, 0, &r) == 0) {
        if (rk_message_edits((const unsigned char *)msg, sizeof msg - 1, &r, &mo, &e, NULL) == 0) {
            for (size_t i = 0; i < e.n; i++)
                adds += e.v[i].kind == RK_EDIT_ADD;
            rk_edits_clear(&e);
        }
        rk_result_clear(&r);
    }
    ok(adds == 6, "edits, keep_existing, server 3.12: only rspamc's own fields (%zu)", adds);
}

int main(void)
{
    test_eoh();
    test_reply();
    test_scan_exchange();
    test_rewrite();
    test_long();
    test_edits();
    test_server_version();
    test_random();
    test_mbox();
    return tap_done();
}
