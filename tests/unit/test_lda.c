/* Unit tests for the LDA pieces of rspamkit-scan: command splitting, the
 * end of the header block, and the --mime output built around it. */
#include "config.h"
#include "lda.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static char *join_argv(char **v)
{
    static char buf[1024];
    buf[0] = 0;
    for (size_t i = 0; v && v[i]; i++) {
        strcat(buf, "[");
        strcat(buf, v[i]);
        strcat(buf, "]");
    }
    return buf;
}

static void test_split(void)
{
    static const struct { const char *in, *want; } ok_cases[] = {
        {"cat", "[cat]"},
        {"  /usr/lib/dovecot/dovecot-lda  -d  user ", "[/usr/lib/dovecot/dovecot-lda][-d][user]"},
        {"dovecot-lda -d 'user@example.com'", "[dovecot-lda][-d][user@example.com]"},
        {"sh -c 'cat > \"/tmp/a b\"'", "[sh][-c][cat > \"/tmp/a b\"]"},
        {"a\\ b c", "[a b][c]"},
        {"\"x \\\"y\\\" \\$HOME \\z\"", "[x \"y\" $HOME \\z]"},
        {"tee $HOME", "[tee][$HOME]"},
        {"a'b'\"c\"d", "[abcd]"},
        {"''", "[]"},
        {"x\t\ny", "[x][y]"},
    };
    for (size_t i = 0; i < sizeof ok_cases / sizeof *ok_cases; i++) {
        char err[100];
        char **v = lda_split_command(ok_cases[i].in, err, sizeof err);
        is_str(v ? join_argv(v) : err, ok_cases[i].want, "split case %zu", i);
        lda_argv_free(v);
    }
    static const char *const bad[] = {"'open", "\"open", "tail\\"};
    for (size_t i = 0; i < 3; i++) {
        char err[100] = "";
        char **v = lda_split_command(bad[i], err, sizeof err);
        ok(!v && err[0], "split error for %s: %s", bad[i], err);
        lda_argv_free(v);
    }
}

static void test_argv(void)
{
    const char *a1[] = {"rspamkit-scan", "--mime", "--exec", "dovecot-lda", "--", "-d", "u", NULL};
    const char *const *tail;
    size_t n;
    int from_tail;
    int argc = lda_split_argv(7, a1, &tail, &n, &from_tail);
    ok(argc == 4 && n == 2 && !strcmp(tail[0], "-d") && !from_tail, "--exec CMD -- ARGS");
    const char *a2[] = {"rspamkit-scan", "--mime", "--", "file", NULL};
    argc = lda_split_argv(4, a2, &tail, &n, &from_tail);
    ok(argc == 4 && !tail && !n, "-- without --exec keeps its meaning");
    const char *a3[] = {"rspamkit-scan", "-m", "-e", "--", "cat", NULL};
    argc = lda_split_argv(5, a3, &tail, &n, &from_tail);
    ok(argc == 2 && n == 1 && from_tail, "-e -- CMD");
    const char *a4[] = {"x", "-me", "deliver", "--", "-d", NULL};
    argc = lda_split_argv(5, a4, &tail, &n, &from_tail);
    ok(argc == 3 && n == 1, "-me CMD -- ARG");
}

static void test_size(void)
{
    ok(lda_parse_size("500") == 500, "size 500");
    ok(lda_parse_size("500k") == 512000, "size 500k");
    ok(lda_parse_size("20M") == 20971520, "size 20M");
    ok(lda_parse_size("1g") == 1073741824, "size 1g");
    ok(lda_parse_size("0") == 0 && lda_parse_size(NULL) == 0, "size 0");
    ok(lda_parse_size("12x") < 0 && lda_parse_size("-1") < 0, "bad sizes");
}

static void eoh(const char *msg, size_t len, size_t pos, const char *eol, int found, int need)
{
    lda_eoh e;
    lda_find_eoh((const unsigned char *)msg, len, &e);
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
}

static const char *const reply_f3 =
    "{\"score\":6.4,\"required_score\":15.0,\"action\":\"add header\",\"symbols\":{"
    "\"B_SYM\":{\"name\":\"B_SYM\",\"score\":4.0},\"A_SYM\":{\"name\":\"A_SYM\",\"score\":2.4,"
    "\"options\":[\"x\"]},\"C_SYM\":{\"name\":\"C_SYM\",\"score\":0.0}},"
    "\"milter\":{\"remove_headers\":{\"X-Spam\":0}}}";

static char *build(const char *msg, size_t len, const char *reply, const char *error,
                   lda_style style, int keep, tk_outfmt fmt, size_t *outlen)
{
    rk_result r;
    rk_error err;
    memset(&r, 0, sizeof r);
    rk_error_clear(&err);
    if (reply && rk_result_parse((const unsigned char *)reply, strlen(reply), 0,
                                 fmt != TK_OUT_TEXT ? RK_RESULT_TREE : 0, &r, &err))
        return NULL;
    lda_build_opts bo = {style, keep, fmt, "rspamkit T"};
    lda_out out;
    int rc = lda_build(&out, (const unsigned char *)msg, len, reply ? &r : NULL, error, 0.0, &bo);
    unsigned char *flat = rc ? NULL : lda_out_flatten(&out, outlen);
    lda_out_clear(&out);
    rk_result_clear(&r);
    return (char *)flat;
}

static void check(const char *name, const char *msg, size_t len, const char *reply,
                  const char *error, lda_style style, int keep, tk_outfmt fmt, const char *want,
                  size_t wantlen)
{
    size_t n = 0;
    char *got = build(msg, len, reply, error, style, keep, fmt, &n);
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

static void test_build(void)
{
    CHECK("rspamc set, LF (spec 4.4)", "From: a@example.com\nTo: b@example.org\nSubject: t\n\nbody line 1\nbody line 2\n",
          reply_f3, NULL, LDA_STYLE_RSPAMC, 1, TK_OUT_TEXT,
          "From: a@example.com\nTo: b@example.org\nSubject: t\n"
          "X-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0\nX-Spam: yes\nX-Spam-Action: add header\n"
          "X-Spam-Score: 6.40 / 15.00\nX-Spam-Level: *******\n"
          "X-Spam-Symbols: B_SYM,\n\tA_SYM,\n\tC_SYM\n\nbody line 1\nbody line 2\n");
    CHECK("rspamc set, CRLF", "From: a\r\nSubject: t\r\n\r\nbody\r\n", reply_f3, NULL,
          LDA_STYLE_RSPAMC, 1, TK_OUT_TEXT,
          "From: a\r\nSubject: t\r\nX-Spam-Scanner: rspamkit T\r\nX-Spam-Scan-Time: 0\r\n"
          "X-Spam: yes\r\nX-Spam-Action: add header\r\nX-Spam-Score: 6.40 / 15.00\r\n"
          "X-Spam-Level: *******\r\nX-Spam-Symbols: B_SYM,\r\n\tA_SYM,\r\n\tC_SYM\r\n\r\nbody\r\n");
    CHECK("earlier X-Spam headers removed by default, folded ones too",
          "From: a\nX-Spam: yes\nX-Spam-Status: old\nX-Spam-Score: 99\nX-Spam-Symbols: A,\n\tB\nTo: b\n\nbody\n",
          "{\"score\":-1.5,\"required_score\":15.0,\"action\":\"no action\",\"symbols\":{}}", NULL,
          LDA_STYLE_RSPAMC, 0, TK_OUT_TEXT,
          "From: a\nX-Spam-Status: old\nTo: b\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0\n"
          "X-Spam-Action: no action\nX-Spam-Score: -1.50 / 15.00\nX-Spam-Level: \nX-Spam-Symbols: \n\nbody\n");
    CHECK("--keep-existing-headers keeps them", "From: a\nX-Spam: yes\n\nb\n",
          "{\"score\":0,\"required_score\":15,\"action\":\"no action\",\"symbols\":{},"
          "\"milter\":{\"remove_headers\":{\"X-Spam\":0}}}", NULL, LDA_STYLE_RSPAMC, 1, TK_OUT_TEXT,
          "From: a\nX-Spam: yes\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0\n"
          "X-Spam-Action: no action\nX-Spam-Score: 0.00 / 15.00\nX-Spam-Level: \nX-Spam-Symbols: \n\nb\n");
    /* milter: remove_headers applies to the headers the message came with;
     * add_headers come after ours and are not removed. */
    CHECK("milter remove (Nth, last, all) then add",
          "A: 1\nX-Foo: f1\nX-Foo: f2\nX-Bar: b1\nX-Bar: b2\nX-Baz: z1\nX-Baz: z2\nX-Added: old\n\nbody\n",
          "{\"score\":1,\"required_score\":15,\"action\":\"no action\",\"symbols\":{\"S\":{\"score\":1}},"
          "\"milter\":{\"remove_headers\":{\"X-Foo\":2,\"X-Bar\":-1,\"X-Baz\":0,\"X-Nope\":1},"
          "\"add_headers\":{\"X-Added\":\"yes\",\"X-Obj\":{\"value\":\"v\",\"order\":0},"
          "\"X-Arr\":[\"one\",{\"value\":\"two\"}],\"X-Fold\":\"a\\nb\",\"Bad Name\":\"x\"}}}",
          NULL, LDA_STYLE_RSPAMC, 0, TK_OUT_TEXT,
          "A: 1\nX-Foo: f1\nX-Bar: b1\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0\n"
          "X-Spam-Action: no action\nX-Spam-Score: 1.00 / 15.00\nX-Spam-Level: *\nX-Spam-Symbols: S\n"
          "X-Added: yes\nX-Obj: v\nX-Arr: one\nX-Arr: two\nX-Fold: a\n\tb\n\nbody\n");
    CHECK("our own X-Spam survives the server's remove_headers",
          "From: a\nX-Spam: yes\n\nb\n", reply_f3, NULL, LDA_STYLE_RSPAMC, 0, TK_OUT_TEXT,
          "From: a\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0\nX-Spam: yes\n"
          "X-Spam-Action: add header\nX-Spam-Score: 6.40 / 15.00\nX-Spam-Level: *******\n"
          "X-Spam-Symbols: B_SYM,\n\tA_SYM,\n\tC_SYM\n\nb\n");
    CHECK("scan failed: rspamc's error set", "From: a\nSubject: t\n\nbody\n", NULL,
          "cannot connect to 127.0.0.1:1: Connection refused", LDA_STYLE_RSPAMC, 0, TK_OUT_TEXT,
          "From: a\nSubject: t\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0.000\n"
          "X-Spam-Error: cannot connect to 127.0.0.1:1: Connection refused\n\nbody\n");
    CHECK("headers only, no final newline", "From: a\r\nSubject: t", NULL, "e", LDA_STYLE_RSPAMC,
          0, TK_OUT_TEXT,
          "From: a\r\nSubject: t\r\nX-Spam-Scanner: rspamkit T\r\nX-Spam-Scan-Time: 0.000\r\n"
          "X-Spam-Error: e\r\n");
    CHECK("mbox From_ line stays first, NUL bytes kept",
          "From x@y Sat Jan  1 00:00:00 2000\nSubject: \0t\n\nbo\0dy\n", NULL, "e", LDA_STYLE_RSPAMC,
          0, TK_OUT_TEXT,
          "From x@y Sat Jan  1 00:00:00 2000\nSubject: \0t\nX-Spam-Scanner: rspamkit T\n"
          "X-Spam-Scan-Time: 0.000\nX-Spam-Error: e\n\nbo\0dy\n");
    CHECK("empty header block", "\nbody\n", NULL, "e", LDA_STYLE_RSPAMC, 0, TK_OUT_TEXT,
          "X-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0.000\nX-Spam-Error: e\n\nbody\n");
    CHECK("spamassassin style", "From: a\nX-Spam-Flag: YES\nX-Spam-Status: No\n\nb\n",
          "{\"score\":16.9,\"required_score\":15,\"action\":\"reject\",\"symbols\":{"
          "\"AAAAAAAAAAAAAAAA\":{},\"BBBBBBBBBBBBBBBB\":{},\"CCCCCCCCCCCCCCCC\":{},\"DDDD\":{}}}",
          NULL, LDA_STYLE_SPAMASSASSIN, 0, TK_OUT_TEXT,
          "From: a\nX-Spam-Scanner: rspamkit T\nX-Spam-Flag: YES\n"
          "X-Spam-Status: Yes, score=16.9 required=15.0 tests=AAAAAAAAAAAAAAAA,\n"
          "\tBBBBBBBBBBBBBBBB,CCCCCCCCCCCCCCCC,DDDD\nX-Spam-Level: ****************\n\nb\n");
    CHECK("spamassassin style, ham", "From: a\n\nb\n",
          "{\"score\":0.5,\"required_score\":15,\"action\":\"no action\",\"symbols\":{}}", NULL,
          LDA_STYLE_SPAMASSASSIN, 0, TK_OUT_TEXT,
          "From: a\nX-Spam-Scanner: rspamkit T\n"
          "X-Spam-Status: No, score=0.5 required=15.0 tests=none\nX-Spam-Level: \n\nb\n");
    CHECK("subject rewrite in place (8-bit: RFC 2047)",
          "From: a\nSubject: old\nTo: b\n\nb\n",
          "{\"score\":9,\"required_score\":15,\"action\":\"rewrite subject\","
          "\"subject\":\"*** SPAM *** caf\\u00e9\",\"symbols\":{}}", NULL, LDA_STYLE_RSPAMC, 0,
          TK_OUT_TEXT,
          "From: a\nSubject: =?UTF-8?B?KioqIFNQQU0gKioqIGNhZsOp?=\nTo: b\nX-Spam-Scanner: rspamkit T\n"
          "X-Spam-Scan-Time: 0\nX-Spam: yes\nX-Spam-Action: rewrite subject\n"
          "X-Spam-Score: 9.00 / 15.00\nX-Spam-Level: *********\nX-Spam-Symbols: \n\nb\n");
    CHECK("X-Spam-Result, compact, folded at 60", "A: b\n\nc\n",
          "{\"score\":1,\"action\":\"no action\",\"symbols\":{}}", NULL, LDA_STYLE_RSPAMC, 1,
          TK_OUT_COMPACT,
          "A: b\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0\nX-Spam-Action: no action\n"
          "X-Spam-Score: 1.00 / 0.00\nX-Spam-Level: *\nX-Spam-Symbols: \n"
          "X-Spam-Result: eyJzY29yZSI6MSwiYWN0aW9uIjoibm8gYWN0aW9uIiwic3ltYm9scyI6e319\n\nc\n");
    CHECK("X-Spam-Level capped at 32", "A: b\n\nc\n",
          "{\"score\":31.5,\"required_score\":100,\"action\":\"no action\",\"symbols\":{}}", NULL,
          LDA_STYLE_RSPAMC, 1, TK_OUT_TEXT,
          "A: b\nX-Spam-Scanner: rspamkit T\nX-Spam-Scan-Time: 0\nX-Spam-Action: no action\n"
          "X-Spam-Score: 31.50 / 100.00\nX-Spam-Level: ********************************\n"
          "X-Spam-Symbols: \n\nc\n");
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
    static const char alphabet[] = "aX-S:p m\t\r\n\n\n\0:";
    const char *reply = "{\"score\":3,\"required_score\":15,\"action\":\"no action\","
                        "\"symbols\":{\"A\":{},\"B\":{}},\"milter\":{\"remove_headers\":{\"X-Spam\":0},"
                        "\"add_headers\":{\"X-Spam-Foo\":\"v\\r\\nw\"}}}";
    rk_result r;
    rk_error err;
    rk_error_clear(&err);
    if (rk_result_parse((const unsigned char *)reply, strlen(reply), 0, 0, &r, &err)) {
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
        lda_eoh e;
        lda_find_eoh(msg, len, &e);
        for (int keep = 0; keep < 2; keep++) {
            lda_build_opts bo = {keep ? LDA_STYLE_RSPAMC : (lda_style)(round % 2), keep, TK_OUT_TEXT, "rspamkit T"};
            lda_out out;
            size_t n;
            if (lda_build(&out, msg, len, round % 5 ? &r : NULL, "e", 0.0, &bo)) {
                bad_keep++;
                continue;
            }
            unsigned char *got = lda_out_flatten(&out, &n);
            lda_out_clear(&out);
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

int main(void)
{
    test_split();
    test_argv();
    test_size();
    test_eoh();
    test_build();
    test_random();
    return tap_done();
}
