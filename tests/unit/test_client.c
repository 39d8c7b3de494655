/* Unit tests of lib/client/: server addresses and HTTP replies. */
#include "config.h"
#include "internal.h"
#include "client/http.h"
#include "tap.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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

/* The reply reader accepts exactly what jansson accepts (a JSON object),
 * and decodes strings the same way. */
/* Size-tagged option structs (rspamkit.h): a program built with an older,
 * smaller struct gets zero for the fields it does not know; one built with a
 * larger struct may leave the unknown tail zero but not set it. */
static void test_sized(void)
{
    rk_msg_opts o = {0};
    o.user_agent = "ua";
    o.filename = "f.eml";
    o.classifier = "bayes";
    rk_headers h = {0};
    rk_error err;
    ok(rk_msg_opts_headers_sized(&o, offsetof(rk_msg_opts, filename), &h, &err) == 0 &&
           rk_headers_get(&h, "User-Agent") && !rk_headers_get(&h, "Filename") &&
           !rk_headers_get(&h, "Classifier"),
       "a smaller rk_msg_opts: the fields past its end are not read");
    rk_headers_clear(&h);
    struct {
        rk_msg_opts o;
        long long newer;
    } big = {0};
    big.o.filename = "f.eml";
    ok(rk_msg_opts_headers_sized(&big.o, sizeof big, &h, &err) == 0 &&
           rk_headers_get(&h, "Filename"),
       "a larger rk_msg_opts with its unknown tail zero is taken");
    rk_headers_clear(&h);
    big.newer = 1;
    ok(rk_msg_opts_headers_sized(&big.o, sizeof big, &h, &err) == -1 && err.code == RK_ERR_USAGE &&
           strstr(err.msg, "newer rspamkit.h"),
       "a larger rk_msg_opts that sets an unknown field is refused: %s", err.msg);
    rk_headers_clear(&h);

    struct {
        rk_client_config c;
        int newer;
    } cbig = {0};
    cbig.c.hosts = "127.0.0.1:1";
    rk_client *c = rk_client_new_sized(&cbig.c, sizeof cbig, &err);
    ok(c != NULL, "rk_client_new takes a larger config with a zero tail");
    rk_client_free(c);
    cbig.newer = 7;
    ok(rk_client_new_sized(&cbig.c, sizeof cbig, &err) == NULL && err.code == RK_ERR_USAGE,
       "rk_client_new refuses a config that sets an unknown field");
    /* an older program's config ends before `hosts`... and garbage after it
     * is never read: retries past the end would otherwise be huge */
    memset(&cbig, 0xff, sizeof cbig);
    cbig.c.hosts = "127.0.0.1:1";
    cbig.c.default_port = 0;
    c = rk_client_new_sized(&cbig.c, offsetof(rk_client_config, connect_timeout), &err);
    ok(c != NULL, "rk_client_new takes a config that ends early: %s", c ? "" : err.msg);
    rk_client_free(c);
}

int main(void)
{
    test_addrs();
    test_http();
    test_sized();
    return tap_done();
}
