/* Unit tests for the UCL parser, the emitters, Rspamd's number printing,
 * the Lua transform emulation and the rspamkit.conf(5) API. TAP output. */
#include "ucl/ucl.h"
#include "tap.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Parse `text` with Rspamd's variables (no templates) and emit it. */
static char *dump(const char *text, rk_ucl_format fmt, char *errbuf, size_t errsz)
{
    rk_ucl_parse_opts o = {.flags = RK_UCL_RSPAMD_VARS};
    rk_ucl *u = NULL;
    rk_error err;
    rk_error_clear(&err);
    if (rk_ucl_parse_buffer(text, strlen(text), "/t/x.conf", &o, &u, &err)) {
        if (errbuf)
            snprintf(errbuf, errsz, "%s", err.msg);
        return NULL;
    }
    char *s = rk_ucl_emit(u, fmt, NULL);
    rk_ucl_free(u);
    return s;
}

static void is_dump(const char *text, rk_ucl_format fmt, const char *want, const char *what)
{
    char e[600] = "";
    char *got = dump(text, fmt, e, sizeof e);
    is_str(got ? got : e, want, "%s", what);
    free(got);
}

static void is_error(const char *text, const char *want, const char *what)
{
    char e[600] = "";
    char *got = dump(text, RK_UCL_FMT_CONFIG, e, sizeof e);
    is_str(got ? "(parsed)" : e, want, "%s", what);
    free(got);
}

static void test_numbers(void)
{
    static const char *const v[][2] = {
        /* recorded from rspamadm configdump 3.4 */
        {"1e7", "10000000.0"},        {"1e8", "1e+8"},
        {"1.5e8", "150000000.0"},     {"123456789.5", "123456789.500000"},
        {"2147483647.0", "2147483647.0"}, {"2147483648.0", "2147483648.000000"},
        {"3e9", "3e+9"},              {"0.30000000000000004", "0.300000"},
        {"1e-7", "0.000000"},         {"-0.0", "-0.0"},
        {"1.9999999", "1.999999"},    {"1e15", "1e+15"},
        {"1.5e15", "1.5e+15"},        {"1e300", "1e+300"},
        {"-2147483649.0", "-2147483649.000000"}, {"0.1", "0.100000"},
        {"123456789.123456789", "123456789.123456"}, {"2.5e-3", "0.002500"},
        /* Grisu2 is not always shortest: these are rspamadm's digits */
        {"748.62894", "748.628939"},  {"1858132750585834.8", "1858132750585834.700000"},
        {"-6.567057064428522e+16", "-65670570644285216.000000"},
        {"-2.6546153960359173e+65", "-2.6546153960359172e+65"},
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        char out[64];
        rk_ucl_format_double(strtod(v[i][0], NULL), out);
        is_str(out, v[i][1], "double %s prints as rspamadm does", v[i][0]);
    }
    char out[64];
    rk_ucl_format_double(NAN, out);
    is_str(out, "null", "NaN prints as null");
}

static void test_lexing(void)
{
    is_dump("a = 12x5; b = 1e5x3; c = 10 k; d = 1.2.3; e = 0755; f = 10s; g = 1kb; h = 5min;\n",
            RK_UCL_FMT_CONFIG,
            "a = 5;\nb = 0;\nc = \"10 k\";\nd = \"1.2.3\";\ne = 755;\nf = 10.0;\ng = 1024;\nh = 300.0;\n",
            "numbers follow libucl's lexer, quirks included");
    is_dump("a = yes; b = OFF; c = null; d = NULL; e = nan;\n", RK_UCL_FMT_CONFIG,
            "a = true;\nb = false;\nc = null;\nd = \"NULL\";\ne = null;\n", "keywords");
    is_dump("a = 'it\\'s'; b = <<EOD\nx\ny\nEOD\nc = \"q\\\"\";\n", RK_UCL_FMT_CONFIG,
            "a = 'it\\'s';\nb = <<EOD\nx\ny\nEOD;\nc = \"q\\\"\";\n",
            "single quotes and heredocs are kept");
    is_dump("// = 1; /* a /* nested */ comment */ b = 2; # c\n", RK_UCL_FMT_CONFIG,
            "// = 1;\nb = 2;\n", "// is a key, block comments nest");
    is_dump("\"k y\" = 1; \"plain\" = 2;\n", RK_UCL_FMT_CONFIG, "\"k y\" = 1;\nplain = 2;\n",
            "keys are quoted only when needed");
    is_dump("w \"a\" \"b\" { x = 1 }\n", RK_UCL_FMT_CONFIG,
            "w {\n    a {\n        b {\n            x = 1;\n        }\n    }\n}\n",
            "named blocks nest");
}

static void test_vars(void)
{
    is_dump("a = $VERSION_MAJOR; b = ${VERSION_MAJOR}; c = \"$$x\"; d = \"$$ $CONFDIR\"; "
            "e = '$CONFDIR'; f = $NOPE; g = $FILENAME;\n",
            RK_UCL_FMT_CONFIG,
            "a = \"3.4_MAJOR\";\nb = \"3\";\nc = \"$$x\";\nd = \"$ /etc/rspamd\";\ne = '$CONFDIR';\n"
            "f = \"$NOPE\";\ng = \"/t/x.conf\";\n",
            "variables: first prefix wins, ${} is exact, $$ only next to a real one");
}

static void test_json(void)
{
    is_dump("a = 1; a = 2; b = \"x\"; b = \"y\"; c = 1.5;\n", RK_UCL_FMT_JSON,
            "{\n    \"a\": [        1,\n        2],\n    \"b\": [\n        \"x\",\n        \"y\"\n"
            "    ],\n    \"c\": 1.500000\n}",
            "JSON implicit arrays follow libucl's layout");
    is_dump("a { b = [1, {c = true}] }\n", RK_UCL_FMT_COMPACT, "{\"a\":{\"b\":[1,{\"c\":true}]}}",
            "compact JSON");
}

static void test_priorities(void)
{
    is_dump(".priority 2\na = 1;\n.priority 1\na = 2;\nb = 1;\n.priority 3\nb = 2;\n",
            RK_UCL_FMT_CONFIG, "a = 1;\nb = 2;\n", "lower priority is dropped, higher replaces");
    is_dump("o { a = 1 }\nbase { x = 1; y = 2 }\nkid { x = 0; .inherit \"base\" }\n",
            RK_UCL_FMT_CONFIG,
            "o {\n    a = 1;\n}\nbase {\n    x = 1;\n    y = 2;\n}\nkid {\n    x = 0;\n    y = 2;\n}\n",
            ".inherit copies missing keys");
}

static void test_errors(void)
{
    is_error("a = \"x\ny\";\n",
             "error while parsing /t/x.conf: line: 1, column: 6 - 'unexpected newline', character: "
             "'0x0a'",
             "newline in a string");
    is_error("a {\n b = 1;\n", "/t/x.conf:3 unmatched open brace at 1; ", "unclosed brace");
    is_error("a = 5e-324;\n",
             "error while parsing /t/x.conf: line: 1, column: 4 - 'numeric value out of range', "
             "character: '5'",
             "number out of range");
    is_error(".include \"/nonexistent/x.conf\"\n",
             "cannot open file /nonexistent/x.conf: No such file or directory (.include at "
             "/t/x.conf:1:0)",
             "include errors say where the macro is");
    is_error(".bogus \"x\"\n",
             "error at /t/x.conf:1 at column 6: unknown macro: 'bogus', character: ' '",
             "unknown macro");
    is_error("'k' = 1;\n",
             "error while parsing /t/x.conf: line: 1, column: 0 - 'key must begin with a "
             "letter', character: '''",
             "single-quoted keys are rejected");
}

static void test_paths(void)
{
    rk_ucl *u = NULL;
    rk_error err;
    rk_error_clear(&err);
    const char *t = "a { b = [10, 20, {c = \"deep\"}] }\nr = 1; r = 2;\n";
    ok(rk_ucl_parse_buffer(t, strlen(t), NULL, NULL, &u, &err) == 0, "parse for lookups");
    const rk_ucl *o = rk_ucl_lookup_path(u, "a.b.1");
    ok(o && rk_ucl_int(o) == 20, "a.b.1 is 20");
    o = rk_ucl_lookup_path(u, "..a..b.2.c");
    size_t len;
    is_str(rk_ucl_string(o, &len), "deep", "empty path components are skipped");
    ok(rk_ucl_lookup_path(u, "a.b.x") == NULL, "a non-numeric index finds nothing");
    o = rk_ucl_lookup(u, "r");
    ok(o && rk_ucl_next(o) && rk_ucl_int(rk_ucl_next(o)) == 2 && !rk_ucl_next(rk_ucl_next(o)),
       "implicit arrays are walked with rk_ucl_next");
    json_t *j = rk_ucl_to_json(u);
    char *js = json_dumps(j, JSON_COMPACT);
    is_str(js, "{\"a\":{\"b\":[10,20,{\"c\":\"deep\"}]},\"r\":[1,2]}", "rk_ucl_to_json");
    free(js);
    json_decref(j);
    rk_ucl_free(u);
}

static void test_transform(void)
{
    const char *t = "metric { name = \"default\"; group \"g\" { max_score = 2.0; symbol \"S\" { "
                    "weight = 1.5; } } }\nneural { }\noptions { check_all_filters = false; }\n"
                    "surbl { rules { X { suffix = \"x.example\"; ips = [1]; } } }\nn = 2.0;\n";
    rk_ucl *u = NULL;
    rk_error err;
    ok(rk_ucl_parse_buffer(t, strlen(t), NULL, NULL, &u, &err) == 0, "parse a legacy config");
    ok(rk_rs_transform(u, 0, &err) == 0, "transform it");
    char *s = rk_ucl_emit(u, RK_UCL_FMT_COMPACT, NULL);
    is_str(s,
           "{\"metric\":{\"group\":{\"g\":{\"max_score\":2,\"symbol\":{\"S\":{\"weight\":1.500000}}}}},\"neural\":{},\"options\":{\"check_all_filters\":true},\"surbl\":[],"
           "\"n\":2,\"group\":{\"g\":{\"symbols\":{\"S\":{\"weight\":1.500000}},\"max_score\":2}},"
           "\"dkim\":[],\"rbl\":{\"rbls\":{\"X\":{\"urls\":true,\"ignore_defaults\":true,\"rbl\":"
           "\"x.example\",\"returncodes\":[1]}}}}",
           "metric groups, neural, surbl and the number round trip as Rspamd's Lua does them");
    free(s);
    rk_ucl_free(u);

    t = "a = 1.0; b = 'q';\n";
    ok(rk_ucl_parse_buffer(t, strlen(t), NULL, NULL, &u, &err) == 0 && rk_rs_transform(u, 0, &err) == 0,
       "a config without metric or groups");
    s = rk_ucl_emit(u, RK_UCL_FMT_CONFIG, NULL);
    is_str(s, "a = 1.0;\nb = 'q';\n", "is left exactly as parsed");
    free(s);
    rk_ucl_free(u);
}

static void test_jinja(void)
{
    rk_rs_env e;
    rk_error err;
    const char *vars[] = {"CONFDIR=/c", "FOO=bar"};
    ok(rk_rs_env_init(&e, RK_UCL_TEMPLATES, NULL, vars, 2, &err) == 0, "template environment");
    unsigned char *out = NULL;
    size_t outlen = 0;
    char msg[300];
    const char *in = "a = \"{= env.FOO =}{= FOO =}|{= paths.CONFDIR =}|{= nope =}\";{# x #}\r\n";
    ok(rk_ucl_jinja(&e.env, "f", (const unsigned char *)in, strlen(in), &out, &outlen, msg,
                    sizeof msg) == 0,
       "expand names");
    is_str((char *)out, "a = \"barbar|/c|\";\n", "env, top-level names, paths, CRLF");
    free(out);
    in = "{% if FOO == 'bar' -%} y {%- else %}n{% endif %}{% for v in {1, 'x'} %}[{= loop.index =}{= v =}]{% endfor %}";
    ok(rk_ucl_jinja(&e.env, "f", (const unsigned char *)in, strlen(in), &out, &outlen, msg,
                    sizeof msg) == 0,
       "statements: %s", msg);
    /* lupa puts the strip of "{%- else" in the else branch: "y " keeps its space */
    is_str((char *)out, "y [11][2x]", "if, whitespace control, for with loop.index");
    free(out);
    in = "a\n{% macro m() %}{% endmacro %}";
    ok(rk_ucl_jinja(&e.env, "f", (const unsigned char *)in, strlen(in), &out, &outlen, msg,
                    sizeof msg) == -1 && strstr(msg, "f:2: Jinja statement {% macro %} is not supported"),
       "unsupported statements are refused: %s", msg);
    rk_rs_env_clear(&e);
}

static int write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    fclose(f);
    return chmod(path, mode);
}

static void test_config(void)
{
    char dir[] = "/tmp/rk-test-ucl.XXXXXX", sys[64], user[64];
    if (!mkdtemp(dir)) {
        ok(0, "mkdtemp");
        return;
    }
    snprintf(sys, sizeof sys, "%s/sys", dir);
    snprintf(user, sizeof user, "%s/user", dir);
    setenv("RSPAMKIT_SYSCONFIG", sys, 1);
    setenv("RSPAMKIT_CONFIG", user, 1);

    rk_settings s;
    rk_error err;
    rk_error_clear(&err);
    ok(rk_config_load(&s, &err) == 0 && !s.host && s.timeout < 0 && s.retries < 0 &&
           s.failure == RK_FAILURE_UNSET && !s.files[0] && !s.files[1],
       "no files: everything unset");
    rk_settings_clear(&s);

    write_file(sys,
               "host = \"scan.example:11333\"; controller = \"/run/rspamd/c.sock\";\n"
               "timeout = 20s; connect_timeout = 500ms; retries = 2; header_style = \"rspamc\";\n"
               "tempfail = yes; key = \"k1\";\n",
               0644);
    write_file(user, "timeout = 5; key = \"k2\"; password = \"secret\"; tempfail = no;\n", 0600);
    ok(rk_config_load(&s, &err) == 0, "system and user files: %s", err.msg);
    is_str(s.host, "scan.example:11333", "host from the system file");
    is_str(s.controller, "/run/rspamd/c.sock", "controller");
    ok(s.timeout == 5 && s.connect_timeout == 0.5 && s.retries == 2, "numbers, user file wins");
    is_str(s.key, "k2", "user key wins");
    is_str(s.password, "secret", "password from a private file");
    ok(s.failure == RK_FAILURE_PASS, "tempfail = no");
    is_str(s.files[0], sys, "files[0] is the system file");
    is_str(s.files[1], user, "files[1] is the user file");
    rk_settings_clear(&s);

    /* a program built when rk_settings ended before header_style: the
     * library writes nothing past that end and frees what does not fit */
    union {
        rk_settings s;
        unsigned char b[sizeof(rk_settings)];
    } old;
    size_t old_size = offsetof(rk_settings, header_style);
    memset(&old, 0xa5, sizeof old);
    int untouched = 1;
    ok(rk_config_load_sized(&old.s, old_size, &err) == 0 && old.s.timeout == 5 &&
           old.s.host && strcmp(old.s.host, "scan.example:11333") == 0,
       "an older, smaller rk_settings is filled up to its end");
    for (size_t i = old_size; i < sizeof old; i++)
        untouched &= old.b[i] == 0xa5;
    rk_settings_clear_sized(&old.s, old_size);
    for (size_t i = old_size; i < sizeof old; i++)
        untouched &= old.b[i] == 0xa5;
    ok(untouched && !old.s.host && old.s.timeout < 0, "and nothing past its end is written");

    chmod(user, 0644);
    ok(rk_config_load(&s, &err) == 0 && s.password_error &&
           strstr(s.password_error, "readable by group and others"),
       "a password in a readable file is refused, the other settings kept: %s",
       s.password_error ? s.password_error : err.msg);
    rk_settings_clear(&s);
    chmod(user, 0640);
    ok(rk_config_load(&s, &err) == 0 && s.password_error &&
           strstr(s.password_error, "readable by group ("),
       "a group-readable file is called group-readable: %s",
       s.password_error ? s.password_error : err.msg);
    rk_settings_clear(&s);
    write_file(user, "timout = 5;\n", 0600);
    ok(rk_config_load(&s, &err) == -1 && strstr(err.msg, "unknown setting 'timout'"),
       "unknown settings are errors: %s", err.msg);
    write_file(user, "retries = \"x\";\n", 0600);
    ok(rk_config_load(&s, &err) == -1 && strstr(err.msg, "'retries' must be an integer"),
       "types are checked: %s", err.msg);
    write_file(user, "host = \"x\n", 0600);
    ok(rk_config_load(&s, &err) == -1 && strstr(err.msg, "line: 1") && strstr(err.msg, user),
       "parse errors name file and line: %s", err.msg);

    unsetenv("RSPAMKIT_CONFIG");
    char xdg[80];
    snprintf(xdg, sizeof xdg, "%s/xdg", dir);
    setenv("XDG_CONFIG_HOME", xdg, 1);
    char sub[128], file[160];
    snprintf(sub, sizeof sub, "%s/rspamkit", xdg);
    mkdir(xdg, 0700);
    mkdir(sub, 0700);
    snprintf(file, sizeof file, "%s/config", sub);
    write_file(file, "retries = 7;\n", 0600);
    ok(rk_config_load(&s, &err) == 0 && s.retries == 7, "$XDG_CONFIG_HOME/rspamkit/config");
    rk_settings_clear(&s);

    unlink(file);
    rmdir(sub);
    rmdir(xdg);
    unlink(sys);
    unlink(user);
    rmdir(dir);
    unsetenv("RSPAMKIT_SYSCONFIG");
    unsetenv("XDG_CONFIG_HOME");
}

int main(void)
{
    test_numbers();
    test_lexing();
    test_vars();
    test_json();
    test_priorities();
    test_errors();
    test_paths();
    test_transform();
    test_jinja();
    test_config();
    return tap_done();
}
