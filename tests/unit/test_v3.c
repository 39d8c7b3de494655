/* Unit tests of /checkv3 (lib/reply/v3.c): the multipart request as rspamc
 * 4.1.5 builds it (metadata bytes compared with a capture of its request),
 * the multipart reply parser and the msgpack reader, well-formed and
 * malformed replies. */
#include "config.h"
#include "internal.h"
#include "reply/reply.h"
#include "transport/transport.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"

/* The metadata part of `body` (the request rk_scan_request_v3 built). */
static const rk_part *request_part(const rk_request *req, const char *name, rk_part *parts,
                                   size_t *n)
{
    const char *ct = rk_headers_get(req->headers, "Content-Type");
    rk_error e;
    if (rk_multipart_parse(req->body, req->body_len, ct, parts, n, &e))
        return NULL;
    return rk_multipart_find(parts, *n, name);
}

static int same(const rk_part *p, const void *want, size_t len)
{
    return p && p->len == len && memcmp(p->data, want, len) == 0;
}

/* rspamc 4.1.5 --protocol-v3 -i 1.2.3.4 -F a@b.c -r x@y.z -r q@w.e --helo hh
 * --hostname hn -u usr -d dd --queue-id QQ --log-tag LT --settings
 * '{"actions":{"reject":3.0}, x=1}' -p --raw --extended-urls --profile
 * --metadata-header K=V --metadata-header K2:v:2 --metadata-header K=W
 * --metadata-header =x --metadata-header Z, as captured */
static const char want_json[] =
    "{\"from\":\"a@b.c\",\"rcpt\":[\"x@y.z\",\"q@w.e\"],\"ip\":\"1.2.3.4\",\"helo\":\"hh\","
    "\"hostname\":\"hn\",\"user\":\"usr\",\"deliver_to\":\"dd\",\"queue_id\":\"QQ\","
    "\"log_tag\":\"LT\",\"settings\":{\"actions\":{\"reject\":3.0},\"x\":1},\"raw\":true,"
    "\"flags\":[\"pass_all\",\"ext_urls\",\"profile\"],"
    "\"headers\":{\"K\":[\"V\",\"W\"],\"K2\":\"v:2\",\"Z\":\"\"}}";
static const char want_msgpack_hex[] =
    "8da466726f6da56140622e63a47263707492a57840792e7aa57140772e65a26970a7312e322e332e34a468656c"
    "6fa26868a8686f73746e616d65a2686ea475736572a3757372aa64656c697665725f746fa26464a871756575"
    "655f6964a25151a76c6f675f746167a24c54a873657474696e677382a7616374696f6e7381a672656a656374"
    "cb4008000000000000a17801a3726177c3a5666c61677393a8706173735f616c6ca86578745f75726c73a770"
    "726f66696c65a76865616465727383a14ba156a24b32a3763a32a15aa0";

static void test_request(void)
{
    const char *rcpt[] = {"x@y.z", "q@w.e"};
    const char *extra[] = {"X-Custom=yes"};
    rk_msg_opts mo = {.ip = "1.2.3.4", .from = "a@b.c", .helo = "hh", .hostname = "hn",
                      .user = "usr", .deliver_to = "dd", .rcpt = rcpt, .n_rcpt = 2,
                      .queue_id = "QQ", .log_tag = "LT",
                      .settings = "{\"actions\":{\"reject\":3.0}, x=1}", .user_agent = "rspamc",
                      .pass_all = 1, .profile = 1, .raw = 1, .extended_urls = 1,
                      .extra = extra, .n_extra = 1};
    rk_headers base = {0}, h = {0};
    rk_error e;
    ok(rk_msg_opts_headers(&mo, &base, &e) == 0, "v2 headers");
    const char *meta[] = {"K=V", "K2:v:2", "K=W", "=x", "Z"};
    const unsigned char msg[] = "Subject: t\r\n\r\nbody\r\n";
    rk_request req;
    unsigned char *body = NULL;
    ok(rk_scan_request_v3(&req, &h, &base, meta, 5, 0, msg, sizeof msg - 1, &body, &e) == 0,
       "request built");
    is_str(req.path, "/checkv3", "path");
    is_str(req.method, "POST", "method");
    ok(req.body == body, "the body is the caller's");
    const char *ct = rk_headers_get(&h, "Content-Type");
    ok(ct && strncmp(ct, "multipart/form-data; boundary=rspamkit-v3-", 42) == 0, "content type %s",
       ct ? ct : "(none)");
    is_str(rk_headers_get(&h, "Accept"), "multipart/form-data", "Accept");
    ok(!rk_headers_get(&h, "Accept-Encoding"), "no Accept-Encoding without zstd");
    is_str(rk_headers_get(&h, "User-Agent"), "rspamc", "User-Agent stays a header");
    is_str(rk_headers_get(&h, "X-Custom"), "yes", "a custom header stays a header");
    const char *gone[] = {"From", "Rcpt", "Ip", "Helo", "Settings", "Flags", "Raw", "URL-Format",
                          "Queue-Id", "Log-Tag", "Deliver-To", "User", "Hostname"};
    int none = 1;
    for (size_t i = 0; i < sizeof gone / sizeof *gone; i++)
        none &= !rk_headers_get(&h, gone[i]);
    ok(none, "the fields in the metadata are not headers");
    rk_part parts[RK_MAX_PARTS];
    size_t n = 0;
    const rk_part *md = request_part(&req, "metadata", parts, &n);
    ok(n == 2, "two parts");
    ok(same(md, want_json, strlen(want_json)), "metadata JSON as rspamc's: %.*s",
       md ? (int)md->len : 0, md ? (const char *)md->data : "");
    ok(md && md->type_len == 16 && memcmp(md->type, "application/json", 16) == 0, "JSON type");
    const rk_part *mp = rk_multipart_find(parts, n, "message");
    ok(same(mp, msg, sizeof msg - 1), "message part is the message");
    ok(mp && !mp->encoding, "not compressed");
    const char *tail = (const char *)req.body + req.body_len - 4;
    ok(memcmp(tail, "--\r\n", 4) == 0, "closing delimiter");
    free(body);
    rk_headers_clear(&h);

    /* msgpack: rspamc's bytes (an implicit array keeps its first value) */
    ok(rk_scan_request_v3(&req, &h, &base, meta, 5, RK_V3_MSGPACK, msg, sizeof msg - 1, &body,
                          &e) == 0, "msgpack request");
    md = request_part(&req, "metadata", parts, &n);
    char hex[sizeof want_msgpack_hex] = "";
    for (size_t i = 0; md && i < md->len && 2 * i + 2 < sizeof hex; i++)
        snprintf(hex + 2 * i, 3, "%02x", md->data[i]);
    is_str(hex, want_msgpack_hex, "metadata msgpack as rspamc's");
    ok(md && md->type_len == 19 && memcmp(md->type, "application/msgpack", 19) == 0, "msgpack type");
    /* and it reads back as the JSON one, but for K's second value */
    rk_buf js = {0};
    ok(md && rk_msgpack_to_json(md->data, md->len, &js, &e) == 0, "msgpack reads back");
    rk_buf_puts(&js, "");
    const char *k = js.p ? strstr((char *)js.p, "\"headers\":{\"K\":\"V\"") : NULL;
    ok(k != NULL, "first value of K");
    rk_buf_free(&js);
    free(body);
    rk_headers_clear(&h);
    rk_headers_clear(&base);

    /* nothing to say: "{}" (JSON even with msgpack), no message part without a message */
    mo = (rk_msg_opts){.user_agent = "rspamc"};
    ok(rk_msg_opts_headers(&mo, &base, &e) == 0, "plain v2 headers");
    ok(rk_scan_request_v3(&req, &h, &base, NULL, 0, RK_V3_MSGPACK, msg, 0, &body, &e) == 0,
       "empty request");
    md = request_part(&req, "metadata", parts, &n);
    ok(n == 1 && same(md, "{}", 2), "empty metadata is {} and there is no message part");
    ok(md && md->type_len == 16, "as JSON");
    free(body);
    rk_headers_clear(&h);
    rk_headers_clear(&base);

    /* settings that are not UCL stay the Settings header; Settings-Id is settings_id */
    mo = (rk_msg_opts){.settings = "{unclosed", .settings_id = "sid"};
    rk_msg_opts_headers(&mo, &base, &e);
    ok(rk_scan_request_v3(&req, &h, &base, NULL, 0, 0, msg, 4, &body, &e) == 0, "bad settings");
    md = request_part(&req, "metadata", parts, &n);
    ok(same(md, "{\"settings_id\":\"sid\"}", 21), "settings_id in the metadata");
    is_str(rk_headers_get(&h, "Settings"), "{unclosed", "unparsed settings stay a header");
    free(body);
    rk_headers_clear(&h);
    rk_headers_clear(&base);

    if (rk_zstd_available()) {
        ok(rk_scan_request_v3(&req, &h, NULL, NULL, 0, RK_V3_ZSTD, msg, sizeof msg - 1, &body,
                              &e) == 0, "zstd request");
        mp = request_part(&req, "message", parts, &n);
        rk_buf out = {0};
        ok(mp && mp->encoding_len == 4 && memcmp(mp->encoding, "zstd", 4) == 0,
           "message part is zstd");
        ok(mp && rk_zstd_decompress(mp->data, mp->len, &out, 1 << 20, &e) == 0 &&
               out.len == sizeof msg - 1 && memcmp(out.p, msg, out.len) == 0,
           "and decompresses to the message");
        is_str(rk_headers_get(&h, "Accept-Encoding"), "zstd", "Accept-Encoding: zstd");
        rk_buf_free(&out);
        free(body);
        rk_headers_clear(&h);
    }
}

/* ---- replies ---- */

static const char result_json[] =
    "{\"is_skipped\":false,\"score\":6.5,\"required_score\":15.0,\"action\":\"add header\","
    "\"symbols\":{\"S1\":{\"name\":\"S1\",\"score\":6.5,\"metric_score\":6.5}},"
    "\"messages\":{}}";

/* A reply as the client returns it. */
static void reply(rk_response *r, const char *ctype, const void *body, size_t len)
{
    memset(r, 0, sizeof *r);
    r->status = 200;
    r->host = (char *)"127.0.0.1:11333";
    if (ctype)
        rk_headers_add(&r->headers, "Content-Type", ctype);
    r->body = malloc(len + 1);
    memcpy(r->body, body, len);
    r->body[len] = 0;
    r->body_len = len;
}

static void done(rk_response *r)
{
    free(r->body);
    rk_headers_clear(&r->headers);
}

/* rk_scan_result of a 200 reply: 0 or -1, why->msg filled. */
static int scan(const char *ctype, const char *body, size_t len, rk_result *res, rk_error *why)
{
    rk_response r;
    rk_error ok_;
    rk_error_clear(&ok_);
    reply(&r, ctype, body, len);
    int rc = rk_scan_result(&r, &ok_, RK_RESULT_TREE | RK_RESULT_V3, res, why);
    done(&r);
    return rc;
}

static void bad(const char *ctype, const char *body, const char *want, const char *what)
{
    rk_result res;
    rk_error why;
    rk_error_clear(&why);
    int rc = scan(ctype, body, strlen(body), &res, &why);
    ok(rc == -1 && why.code == RK_ERR_PROTOCOL && strstr(why.msg, want) &&
           strncmp(why.msg, "bad reply from 127.0.0.1:11333: ", 32) == 0,
       "%s: %s", what, why.msg);
    if (rc == 0)
        rk_result_clear(&res);
}

static void test_reply(void)
{
    rk_result res;
    rk_error why;
    rk_error_clear(&why);
    char buf[2048];
    const char *ct = "multipart/form-data; boundary=\"rspamd-v3-abc-0\"";

    snprintf(buf, sizeof buf,
             "--rspamd-v3-abc-0\r\nContent-Disposition: form-data; name=\"result\"\r\n"
             "Content-Type: application/json\r\n\r\n%s\r\n--rspamd-v3-abc-0--\r\n",
             result_json);
    ok(scan(ct, buf, strlen(buf), &res, &why) == 0, "result part: %s", why.msg);
    is_str(res.action, "add header", "action");
    ok(res.n_symbols == 1 && res.score == 6.5, "symbols and score");
    ok(!res.rewritten && res.json, "no rewritten message, a tree");
    rk_result_clear(&res);

    /* with a rewritten message (LF line endings, unquoted boundary) */
    const char *msg = "Subject: [SPAM] x\r\n\r\nnew\r\n--Bogus, not the boundary\r\n--B-\r\n";
    snprintf(buf, sizeof buf,
             "--B\nContent-Disposition: form-data; name=\"result\"\n\n%s\n"
             "--B\nContent-Disposition: form-data; name=\"body\"\n"
             "Content-Type: application/octet-stream\n\n%s\n--B--\n",
             result_json, msg);
    ok(scan("multipart/form-data; boundary=B", buf, strlen(buf), &res, &why) == 0,
       "result and body: %s", why.msg);
    ok(res.rewritten && res.rewritten_len == strlen(msg) &&
           memcmp(res.rewritten, msg, strlen(msg)) == 0, "the body part is the rewritten message");
    rk_result_clear(&res);

    /* msgpack result (what --msgpack gets back) */
    static const unsigned char mpres[] = {
        0x84, 0xa5, 's', 'c', 'o', 'r', 'e', 0xcb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a,
        0xa6, 'a', 'c', 't', 'i', 'o', 'n', 0xa9, 'n', 'o', ' ', 'a', 'c', 't', 'i', 'o', 'n',
        0xa7, 's', 'y', 'm', 'b', 'o', 'l', 's', 0x80,
        0xa1, 'n', 0x93, 0x01, 0xd0, 0x80, 0xc3};
    size_t bl = (size_t)snprintf(buf, sizeof buf,
                                 "--B\r\nContent-Disposition: form-data; name=\"result\"\r\n"
                                 "Content-Type: application/msgpack\r\n\r\n");
    memcpy(buf + bl, mpres, sizeof mpres);
    bl += sizeof mpres;
    bl += (size_t)snprintf(buf + bl, sizeof buf - bl, "\r\n--B--\r\n");
    ok(scan("multipart/form-data; boundary=B", buf, bl, &res, &why) == 0, "msgpack result: %s",
       why.msg);
    is_str(res.action, "no action", "msgpack action");
    ok(res.score == 0.1, "score with full precision");
    char *j = res.json ? json_dumps(json_object_get(res.json, "n"), JSON_COMPACT) : NULL;
    is_str(j, "[1,-128,true]", "ints and booleans");
    free(j);
    rk_result_clear(&res);

    if (rk_zstd_available()) {
        rk_buf z = {0};
        rk_error e;
        rk_zstd_compress((const unsigned char *)result_json, strlen(result_json), &z, &e);
        bl = (size_t)snprintf(buf, sizeof buf,
                              "--B\r\nContent-Disposition: form-data; name=\"result\"\r\n"
                              "Content-Type: application/json\r\nContent-Encoding: zstd\r\n\r\n");
        memcpy(buf + bl, z.p, z.len);
        bl += z.len;
        bl += (size_t)snprintf(buf + bl, sizeof buf - bl, "\r\n--B--\r\n");
        ok(scan("multipart/form-data; boundary=B", buf, bl, &res, &why) == 0,
           "zstd result part: %s", why.msg);
        is_str(res.action, "add header", "zstd action");
        rk_result_clear(&res);
        rk_buf_free(&z);
    }

    /* malformed replies: one clear error each */
    bad("multipart/form-data", "--B\r\n\r\n{}\r\n--B--\r\n", "without a valid boundary",
        "no boundary parameter");
    bad("multipart/form-data; boundary=\"B", "--B\r\n\r\n{}\r\n--B--\r\n",
        "without a valid boundary", "unterminated quoted boundary");
    bad("multipart/form-data; boundary=B", "{\"action\":\"reject\"}", "without its boundary line",
        "no delimiter line");
    bad("multipart/form-data; boundary=B",
        "--B\r\nContent-Disposition: form-data; name=\"result\"\r\n\r\n{\"action\":",
        "truncated multipart reply: part 1", "truncated part");
    bad("multipart/form-data; boundary=B",
        "--B\r\nContent-Disposition: form-data; name=\"result\"\r\n\r\n{}\r\n--B",
        "truncated multipart reply", "no closing delimiter");
    bad("multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=\"res",
        "truncated multipart reply", "cut in the headers");
    bad("multipart/form-data; boundary=B",
        "--B\r\nContent-Disposition: form-data; name=\"result\"\r\n--B--\r\n", "no end of headers",
        "headers without an end");
    bad("multipart/form-data; boundary=B",
        "--B\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nx\r\n--B--\r\n",
        "no 'result' part", "missing result part");
    bad("multipart/form-data; boundary=B", "--B--\r\n", "without parts", "no parts");
    bad("multipart/form-data; boundary=B", "--Bx\r\n\r\n{}\r\n--B--\r\n", "bad boundary line",
        "a longer boundary");
    bad("multipart/form-data; boundary=B",
        "--B\r\nContent-Disposition: form-data; name=\"result\"\r\n\r\n{\"action\":\r\n--B--\r\n",
        "cannot parse reply", "result part not JSON");
    bad("multipart/form-data; boundary=B",
        "--B\r\nContent-Disposition: form-data; name=\"result\"\r\nContent-Encoding: gzip\r\n\r\n"
        "x\r\n--B--\r\n",
        "unknown encoding 'gzip'", "unknown encoding");
    char many[1024] = "";
    for (int i = 0; i < RK_MAX_PARTS + 1; i++)
        strcat(many, "--B\r\nContent-Disposition: form-data; name=\"p\"\r\n\r\nx\r\n");
    strcat(many, "--B--\r\n");
    bad("multipart/form-data; boundary=B", many, "more than 8 parts", "too many parts");
    if (rk_zstd_available())
        bad("multipart/form-data; boundary=B",
            "--B\r\nContent-Disposition: form-data; name=\"result\"\r\nContent-Encoding: zstd\r\n"
            "\r\nnot zstd\r\n--B--\r\n",
            "the result part", "corrupt zstd part");
}

static void mp_bad(const unsigned char *in, size_t len, const char *want, const char *what)
{
    rk_buf out = {0};
    rk_error e;
    rk_error_clear(&e);
    int rc = rk_msgpack_to_json(in, len, &out, &e);
    ok(rc == -1 && e.code == RK_ERR_PROTOCOL && strstr(e.msg, want), "msgpack %s: %s", what, e.msg);
    rk_buf_free(&out);
}

static void mp_good(const unsigned char *in, size_t len, const char *want, const char *what)
{
    rk_buf out = {0};
    rk_error e;
    int rc = rk_msgpack_to_json(in, len, &out, &e);
    rk_buf_puts(&out, "");
    ok(rc == 0 && out.p && strcmp((char *)out.p, want) == 0, "msgpack %s: %s", what,
       out.p ? (char *)out.p : e.msg);
    rk_buf_free(&out);
}

static void test_msgpack(void)
{
    mp_good((const unsigned char *)"\x92\xcb\x40\x08\x00\x00\x00\x00\x00\x00\xca\x3f\x80\x00\x00",
            15, "[3.0,1.0]", "floats keep a decimal point");
    mp_good((const unsigned char *)"\x93\xcf\xff\xff\xff\xff\xff\xff\xff\xff\xd3\x80\x00\x00\x00"
                                   "\x00\x00\x00\x00\xd1\xff\x00",
            22, "[18446744073709551615,-9223372036854775808,-256]", "integer widths");
    mp_good((const unsigned char *)"\x82\xa1k\xc4\x02\"\n\xa1z\xd4\x01\x02", 12,
            "{\"k\":\"\\\"\\n\",\"z\":null}", "binary as an escaped string, ext as null");
    mp_bad((const unsigned char *)"\x82\xa1k", 3, "truncated", "map cut short");
    mp_bad((const unsigned char *)"\xdb\xff\xff\xff\xff", 5, "truncated", "huge string length");
    mp_bad((const unsigned char *)"\xdd\xff\xff\xff\xff\x01", 6, "truncated", "huge array count");
    mp_bad((const unsigned char *)"\x81\x01\x02", 3, "key is not a string", "integer key");
    mp_bad((const unsigned char *)"\xc0\xc0", 2, "trailing bytes", "two values");
    mp_bad((const unsigned char *)"\xc1", 1, "invalid msgpack type", "reserved byte");
    mp_bad((const unsigned char *)"", 0, "truncated", "nothing");
    static unsigned char deep[3000];
    memset(deep, 0x91, sizeof deep);
    mp_bad(deep, sizeof deep, "nested too deep", "3000 nested arrays");
}

static void test_old_server(void)
{
    rk_response r;
    rk_result res;
    rk_error err, why;
    reply(&r, "application/json", "{\"error\":\"invalid command\"}", 27);
    r.status = 500;
    r.reason = (char *)"invalid command";
    rk_headers_add(&r.headers, "Server", "rspamd/3.4");
    rk_error_clear(&err);
    err.code = RK_ERR_HTTP;
    err.http_status = 500;
    snprintf(err.msg, sizeof err.msg, "HTTP error: 500, invalid command");
    ok(rk_scan_result(&r, &err, RK_RESULT_V3, &res, &why) == -1 && why.code == RK_ERR_UNSUPPORTED,
       "3.4: unsupported");
    is_str(why.msg,
           "127.0.0.1:11333 has no /checkv3 (Rspamd 3.4; --protocol-v3 needs Rspamd 4.0 or later)",
           "one line naming the version");
    ok(rk_scan_result(&r, &err, 0, &res, &why) == -1 && why.code == RK_ERR_HTTP,
       "a /checkv2 request keeps the HTTP error");
    rk_headers_clear(&r.headers);
    rk_headers_add(&r.headers, "Server", "rspamd/4.1.5");
    r.reason = (char *)"missing 'message' part in v3 request";
    ok(rk_scan_result(&r, &err, RK_RESULT_V3, &res, &why) == -1 && why.code == RK_ERR_HTTP,
       "a 4.x error stays what it is");
    done(&r);
}

int main(void)
{
    test_request();
    test_reply();
    test_msgpack();
    test_old_server();
    return tap_done();
}
