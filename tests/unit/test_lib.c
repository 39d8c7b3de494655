/* Unit tests for the library's parsers: addresses, HTTP replies, /checkv2
 * JSON, the JSON/UCL emitter and mbox splitting. */
#include "config.h"
#include "internal.h"
#include "client/http.h"
#include "tap.h"

#include <stdlib.h>

static void test_addrs(void)
{
    static const struct {
        const char *spec;
        rk_addr_kind kind;
        const char *host;
        int port;
        const char *prefix;
    } good[] = {
        {"localhost", RK_ADDR_TCP, "localhost", 0, ""},
        {"127.0.0.1:11333", RK_ADDR_TCP, "127.0.0.1", 11333, ""},
        {"[::1]:11334", RK_ADDR_TCP, "::1", 11334, ""},
        {"[::1]", RK_ADDR_TCP, "::1", 0, ""},
        {"::1", RK_ADDR_TCP, "::1", 0, ""},
        {"/run/rspamd/normal.sock", RK_ADDR_UNIX, "/run/rspamd/normal.sock", 0, ""},
        {"http://mx.example:8080", RK_ADDR_TCP, "mx.example", 8080, ""},
        {"http://mx.example/rspamd/", RK_ADDR_TCP, "mx.example", 0, "/rspamd"},
        {"https://mx.example/", RK_ADDR_HTTPS, "mx.example", 443, ""},
        {"HTTPS://[2001:db8::1]:8443/x", RK_ADDR_HTTPS, "2001:db8::1", 8443, "/x"},
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        rk_addr *a;
        size_t n;
        rk_error err;
        int rc = rk_addrs_parse(good[i].spec, &a, &n, &err);
        ok(rc == 0 && n == 1 && a[0].kind == good[i].kind && strcmp(a[0].host, good[i].host) == 0 &&
               a[0].port == good[i].port && strcmp(a[0].prefix, good[i].prefix) == 0,
           "address '%s'", good[i].spec);
        if (rc == 0)
            rk_addrs_free(a, n);
    }
    rk_addr *a;
    size_t n;
    rk_error err;
    ok(rk_addrs_parse("a:1, [::1]:2 ,/s", &a, &n, &err) == 0 && n == 3 && a[1].port == 2 &&
           a[2].kind == RK_ADDR_UNIX,
       "comma-separated list");
    rk_addrs_free(a, n);
    ok(rk_addr_port(&(rk_addr){.port = 0}, 11334) == 11334, "default port applies");
    static const char *const bad[] = {"", "host:", "host:abc", "host:99999", "host:0", "[::1",
                                      "[::1]x", ":11333", "a,,b", "http://:80"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = rk_addrs_parse(bad[i], &a, &n, &err);
        ok(rc == -1 && err.code == RK_ERR_USAGE && err.msg[0], "rejects '%s' (%s)", bad[i],
           rc ? err.msg : "accepted");
        if (rc == 0)
            rk_addrs_free(a, n);
    }
}

static void test_http(void)
{
    const char *r = "HTTP/1.1 200 OK\r\nConnection: close\r\nServer: rspamd/3.4\r\n"
                    "Content-Length: 7\r\nMessage-Offset: 2\r\n\r\n{}hello";
    ok(rk_http_complete((const unsigned char *)r, strlen(r)), "complete reply detected");
    ok(!rk_http_complete((const unsigned char *)r, strlen(r) - 1), "incomplete body detected");
    rk_response resp = {0};
    rk_error err;
    ok(rk_http_parse_response((const unsigned char *)r, strlen(r), &resp, &err) == 0 &&
           resp.status == 200 && resp.body_len == 7 && memcmp(resp.body, "{}hello", 7) == 0,
       "status and body parsed");
    is_str(rk_headers_get(&resp.headers, "message-offset"), "2", "header lookup is case-insensitive");
    is_str(resp.reason, "OK", "reason phrase");
    rk_response_clear(&resp);

    const char *e = "HTTP/1.1 208 <mid> has been already learned as spam, ignore it\r\n"
                    "Content-Length: 2\r\n\r\n{}";
    ok(rk_http_parse_response((const unsigned char *)e, strlen(e), &resp, &err) == 0 &&
           resp.status == 208,
       "non-200 status parsed");
    is_str(resp.reason, "<mid> has been already learned as spam, ignore it", "long reason kept");
    rk_response_clear(&resp);

    static const char *const bad[] = {"garbage\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n",
                                      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
                                      "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
                                      "HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ok(rk_http_parse_response((const unsigned char *)bad[i], strlen(bad[i]), &resp, &err) == -1,
           "rejects bad reply %zu (%s)", i, err.msg);
        rk_response_clear(&resp);
    }
}

static const char f1[] =
    "{\"is_skipped\":false,\"score\":15.5,\"required_score\":15,\"action\":\"discard\","
    "\"subject\":\"***SPAM*** hello\",\"symbols\":{\"ZED\":{\"name\":\"ZED\",\"score\":1.23456,"
    "\"options\":[\"o1\",\"o2, with comma\",\"o3\"]},\"alpha\":{\"name\":\"alpha\",\"score\":-2},"
    "\"BETA\":{\"name\":\"BETA\"},\"GAMMA\":{\"name\":\"GAMMA\",\"score\":0.005,\"options\":[]}},"
    "\"messages\":{\"smtp_message\":\"Rejected: spam\"},\"urls\":[\"a.example\"],\"emails\":[\"x@y.z\"],"
    "\"message-id\":\"mid@x\",\"queue-id\":\"QID123\",\"dkim-signature\":[\"v=1; a\",\"v=1; second\"],"
    "\"milter\":{\"add_headers\":{\"X-Added\":\"yes\"},\"remove_headers\":{\"X-Spam\":0}}}";

static void test_result(void)
{
    rk_result r;
    rk_error err;
    char buf[sizeof f1 + 64];
    snprintf(buf, sizeof buf, "%sFrom: a@b\n\nnew\n", f1);
    ok(rk_result_parse((unsigned char *)buf, strlen(buf), strlen(f1), 0, &r, &err) == 0,
       "F1 parses");
    is_str(r.action, "discard", "action");
    ok(r.has_score && r.score == 15.5 && r.has_required && r.required_score == 15, "scores");
    ok(r.n_symbols == 4 && strcmp(r.symbols[0].name, "ZED") == 0, "symbols in server order");
    ok(r.symbols[0].n_options == 3 && strcmp(r.symbols[0].options[1], "o2, with comma") == 0,
       "symbol options");
    ok(!r.symbols[2].has_score && !r.symbols[2].has_options, "symbol without score/options");
    ok(r.symbols[3].has_options && r.symbols[3].n_options == 0, "empty options array kept");
    ok(r.n_dkim == 2, "dkim-signature array");
    is_str(r.queue_id, "QID123", "queue-id");
    ok(r.n_milter_add == 1 && !strcmp(r.milter_add[0].name, "X-Added") &&
           !strcmp(r.milter_add[0].value, "yes") && r.n_milter_remove == 1 &&
           !strcmp(r.milter_remove[0].name, "X-Spam") && r.milter_remove[0].index == 0,
       "milter block, typed");
    ok(r.rewritten_len == 15 && memcmp(r.rewritten, "From: a@b\n\nnew\n", 15) == 0,
       "rewritten message behind Message-Offset");
    rk_result_clear(&r);

    ok(rk_result_parse((const unsigned char *)"{\"score\":", 9, 0, 0, &r, &err) == -1 &&
           err.code == RK_ERR_PROTOCOL,
       "truncated JSON is a protocol error");
    ok(rk_result_parse((const unsigned char *)"", 0, 0, 0, &r, &err) == -1, "empty body refused");
    ok(rk_result_parse((const unsigned char *)"[1]", 3, 0, 0, &r, &err) == -1, "non-object refused");
    ok(rk_action_is_spam("add header") == 1 && rk_action_is_spam("No Action") == 0 &&
           rk_action_is_spam("discard") == -1,
       "action classes");
}

/* The reply reader accepts exactly what jansson accepts (a JSON object),
 * and decodes strings the same way. */
static void test_result_strict(void)
{
    static const char *const cases[] = {
        "{}", " {\"a\" : [1, -0.5e+3, true, false, null, {\"b\": \"c\"}]} \n",
        "{\"action\":\"x\"} x", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":-}",
        "{\"a\":1e}", "{\"a\":+1}", "{\"a\":tru}", "{\"a\":[1,]}", "{\"a\":1,}", "{,}",
        "{\"a\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u00e9\\ud83d\\ude00\"}", "{\"a\":\"\\ud83d\"}",
        "{\"a\":\"\\ude00x\"}", "{\"a\":\"\\u0000\"}", "{\"a\":\"\\u12G4\"}", "{\"a\":\"tab\there\"}",
        "{\"a\":\"\xc3\xa9\"}", "{\"a\":\"\xc3\"}", "{\"a\":\"\xe0\x80\x80\"}",
        "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf4\x90\x80\x80\"}", "{\"a\":\"\xff\"}",
        "{'a':1}", "{\"a\":1}{}", "[]", "\"s\"", "12", "{\"symbols\":[1]}",
        "{\"symbols\":{\"S\":1,\"T\":{\"options\":\"x\"}}}", "{\"dkim-signature\":7}",
        "{\"score\":\"12\",\"required_score\":null}", "{\"a\":1e400}", "{\"a\":-1e400}",
        "{\"a\":1e-400}", "{\"a\":9223372036854775807}", "{\"a\":9223372036854775808}",
        "{\"a\":-9223372036854775809}", "{\"score\":123456789012345678901234567890.5}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const unsigned char *b = (const unsigned char *)cases[i];
        size_t n = strlen(cases[i]);
        json_t *j = json_loadb(cases[i], n, 0, NULL);
        int want = j && json_is_object(j);
        json_decref(j);
        rk_result r;
        rk_error err;
        int got = rk_result_parse(b, n, 0, 0, &r, &err) == 0;
        ok(got == want && (got || err.code == RK_ERR_PROTOCOL), "%s like jansson: case %zu",
           want ? "accepted" : "refused", i);
        if (got)
            rk_result_clear(&r);
    }

    static const char f2[] =
        "{\"action\":\"add\\u0020header\",\"score\":\"12\",\"symbols\":{\"S\\u00e9\":{\"score\":2,"
        "\"description\":\"tab\\there \\\"q\\\" \\ud83d\\ude00\",\"options\":[\"a\\/b\",3,\"c\"]},"
        "\"T\":7,\"U\":{\"options\":\"x\"}},\"dkim-signature\":\"v=1; only\",\"is_skipped\":true,"
        "\"urls\":[\"u\"],\"profile\":{\"p\":1}}";
    rk_result r;
    rk_error err;
    ok(rk_result_parse((const unsigned char *)f2, strlen(f2), 0, 0, &r, &err) == 0, "F2 parses");
    is_str(r.action, "add header", "\\u escape in a value");
    ok(!r.has_score && !r.json, "a string score is no score; no tree unless asked");
    ok(r.n_symbols == 2 && strcmp(r.symbols[0].name, "S\xc3\xa9") == 0 &&
           strcmp(r.symbols[1].name, "U") == 0,
       "symbol names decoded; non-object symbols skipped");
    is_str(r.symbols[0].description, "tab\there \"q\" \xf0\x9f\x98\x80", "escapes and a surrogate pair");
    ok(r.symbols[0].n_options == 2 && strcmp(r.symbols[0].options[0], "a/b") == 0 &&
           strcmp(r.symbols[0].options[1], "c") == 0 && r.symbols[0].options[2] == NULL,
       "options: strings only, NULL-terminated");
    ok(!r.symbols[1].has_options && !r.symbols[1].options, "options that are not an array");
    ok(r.n_dkim == 1 && strcmp(r.dkim[0], "v=1; only") == 0, "dkim-signature as one string");
    ok(r.is_skipped && json_is_array(r.urls) && json_is_object(r.profile) && !r.n_milter_add,
       "is_skipped, and the JSON sub-objects");
    rk_result_clear(&r);
    ok(rk_result_parse((const unsigned char *)f2, strlen(f2), 0, RK_RESULT_TREE, &r, &err) == 0 &&
           json_is_object(r.json) && json_object_size(r.json) == 7 &&
           r.urls == json_object_get(r.json, "urls"),
       "RK_RESULT_TREE keeps the whole reply");
    rk_result_clear(&r);

    char deep[2 * 2100 + 16];
    size_t k = 0;
    deep[k++] = '{', deep[k++] = '"', deep[k++] = 'a', deep[k++] = '"', deep[k++] = ':';
    for (int i = 0; i < 2100; i++)
        deep[k++] = '[';
    for (int i = 0; i < 2100; i++)
        deep[k++] = ']';
    deep[k++] = '}';
    ok(rk_result_parse((const unsigned char *)deep, k, 0, 0, &r, &err) == -1 &&
           strstr(err.msg, "nested too deeply"),
       "deep nesting is refused, not a stack overflow");
}

static void test_emit(void)
{
    const char *f2 = "{\"i\":3,\"f\":1.5,\"near\":2.00000000001,\"neg\":-0.25,\"big\":1e20,"
                     "\"tiny\":1e-7,\"whole\":15.0,\"t\":true,\"n\":null,"
                     "\"str\":\"tab\\there \\\"q\\\" /slash \\u00e9 \\u0001\",\"e\":{},\"a\":[]}";
    json_t *v = json_loads(f2, 0, NULL);
    char *s = rk_emit(v, RK_EMIT_COMPACT, NULL);
    is_str(s,
           "{\"i\":3,\"f\":1.500000,\"near\":2.00000000001,\"neg\":-0.250000,"
           "\"big\":100000000000000000000.000000,\"tiny\":0.000000,\"whole\":15.0,\"t\":true,"
           "\"n\":null,\"str\":\"tab\\there \\\"q\\\" /slash \xc3\xa9 \\uFFFD\",\"e\":{},\"a\":[]}",
           "compact JSON uses libucl number and string rules");
    free(s);
    json_decref(v);

    v = json_loads("{\"a\":1,\"o\":{\"x\":[1,\"s\"]},\"l\":[{\"k\":true}]}", 0, NULL);
    s = rk_emit(v, RK_EMIT_JSON, NULL);
    is_str(s,
           "{\n    \"a\": 1,\n    \"o\": {\n        \"x\": [\n            1,\n            \"s\"\n"
           "        ]\n    },\n    \"l\": [\n        {\n            \"k\": true\n        }\n    ]\n}",
           "pretty JSON layout");
    free(s);
    s = rk_emit(v, RK_EMIT_UCL, NULL);
    is_str(s, "a = 1;\no {\n    x [\n        1,\n        \"s\",\n    ]\n}\nl [\n    {\n        k = true;\n    }\n]\n",
           "UCL layout");
    free(s);
    json_decref(v);
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
}

int main(void)
{
    test_addrs();
    test_http();
    test_result();
    test_result_strict();
    test_emit();
    test_mbox();
    return tap_done();
}
