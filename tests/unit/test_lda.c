/* Unit tests for the LDA options of rspamkit-scan: command splitting, the
 * words after "--", sizes. The message rewriting itself is the library's
 * (tests/unit/test_message.c). */
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
    const char *a1[] = {"rspamkit-scan", "--mime", "--exec", "dovecot-lda", "--", "f.eml", NULL};
    const char *const *tail;
    size_t n;
    int argc = lda_split_argv(6, a1, &tail, &n);
    ok(argc == 6 && !tail && !n, "--exec CMD -- FILE: FILE is an input");
    const char *a2[] = {"rspamkit-scan", "--mime", "--", "file", NULL};
    argc = lda_split_argv(4, a2, &tail, &n);
    ok(argc == 4 && !tail && !n, "-- without --exec keeps its meaning");
    const char *a3[] = {"rspamkit-scan", "-m", "-e", "--", "cat", NULL};
    argc = lda_split_argv(5, a3, &tail, &n);
    ok(argc == 2 && n == 1 && !strcmp(tail[0], "cat"), "-e -- CMD");
    const char *a4[] = {"x", "--exec", "--", NULL};
    argc = lda_split_argv(3, a4, &tail, &n);
    ok(argc == 1 && tail && !n, "--exec -- with no command");
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

int main(void)
{
    test_split();
    test_argv();
    test_size();
    return tap_done();
}
