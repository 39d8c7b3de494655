/* Unit tests for lib/controller.c: what learn and fuzzy replies mean, and the
 * bodies of /saveactions and /savesymbols. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rspamkit.h"
#include "tap.h"

/* A reply as the client would return it. */
static rk_ctl_outcome classify(rk_ctl_kind kind, int status, const char *reason,
                               const char *body, rk_status code, rk_error *why)
{
    rk_response r;
    rk_error err;
    memset(&r, 0, sizeof r);
    rk_error_clear(&err);
    r.status = status;
    r.reason = (char *)reason;
    r.body = (unsigned char *)body;
    r.body_len = body ? strlen(body) : 0;
    r.host = (char *)"127.0.0.1:11334";
    err.code = code;
    err.http_status = status;
    if (code == RK_ERR_AUTH)
        snprintf(err.msg, sizeof err.msg, "authentication refused by 127.0.0.1:11334");
    else if (code == RK_ERR_HTTP)
        snprintf(err.msg, sizeof err.msg, "HTTP error: %d, %s", status, reason);
    json_t *reply = NULL;
    rk_ctl_outcome oc = rk_ctl_classify(kind, status ? &r : NULL, &err, &reply, why);
    json_decref(reply);
    return oc;
}

static void test_learn(void)
{
    rk_error why;
    ok(classify(RK_CTL_LEARN, 200, "OK", "{\"success\":true}", RK_OK, &why) == RK_CTL_DONE,
       "200 success: learned");
    ok(why.msg[0] == 0 && why.http_status == 200, "learned: no message, status 200");
    ok(classify(RK_CTL_LEARN, 208, "<x> has been already learned as spam, ignore it",
                "{\"error\":\"<x> has been already learned as spam, ignore it\"}", RK_OK,
                &why) == RK_CTL_ALREADY,
       "208: already learned");
    is_str(why.msg, "<x> has been already learned as spam, ignore it", "208: the server's message");
    ok(classify(RK_CTL_LEARN, 204, "all learn conditions denied learning spam in default classifier",
                "{\"error\":\"all learn conditions denied learning spam in default classifier\"}",
                RK_OK, &why) == RK_CTL_SKIPPED,
       "204 learn conditions: skipped");
    ok(why.code == RK_OK, "skipped is not an error");
    ok(classify(RK_CTL_LEARN, 204, "x", "{\"error\":\"<m> contains less tokens than required "
                "for bayes classifier: 4 < 11\"}", RK_OK, &why) == RK_CTL_SKIPPED,
       "204 too few tokens: skipped");
    ok(classify(RK_CTL_LEARN, 404, "<x> has been already learned as ham, ignore it",
                "{\"error\":\"<x> has been already learned as ham, ignore it\"}", RK_ERR_HTTP,
                &why) == RK_CTL_ALREADY,
       "an older server's 404 already learned: already learned");
    ok(classify(RK_CTL_LEARN, 404, "x", "{\"error\":\"<m> contains less tokens than required "
                "for bayes classifier: 4 < 11\"}", RK_ERR_HTTP, &why) == RK_CTL_SKIPPED,
       "a 4xx too few tokens: skipped");
    ok(classify(RK_CTL_LEARN, 404, "cannot find classifier with name x",
                "{\"error\":\"cannot find classifier with name x\"}", RK_ERR_HTTP,
                &why) == RK_CTL_FAILED,
       "unknown classifier: failed");
    is_str(why.msg, "HTTP error: 404, cannot find classifier with name x", "its message");
    ok(why.code == RK_ERR_HTTP, "an HTTP error");
    ok(classify(RK_CTL_LEARN, 401, "Unauthorized", "{\"error\":\"Unauthorized\"}", RK_ERR_AUTH,
                &why) == RK_CTL_FAILED && why.code == RK_ERR_AUTH,
       "401: failed, auth");
    is_str(why.msg, "authentication refused by 127.0.0.1:11334", "401: the library's message");
    ok(classify(RK_CTL_LEARN, 500, "Internal", "{\"error\":\"redis timeout\"}", RK_ERR_HTTP,
                &why) == RK_CTL_FAILED,
       "500: failed");
    is_str(why.msg, "HTTP error: 500, redis timeout", "the body's error wins over the reason");
    ok(classify(RK_CTL_LEARN, 200, "OK", "", RK_OK, &why) == RK_CTL_FAILED &&
           why.code == RK_ERR_PROTOCOL,
       "an empty 2xx body: failed, protocol");
    ok(classify(RK_CTL_LEARN, 200, "OK", "not json", RK_OK, &why) == RK_CTL_FAILED,
       "a 2xx body that is not JSON: failed");
    ok(classify(RK_CTL_LEARN, 200, "OK", "{\"success\":false}", RK_OK, &why) == RK_CTL_FAILED,
       "success false: failed");
    ok(classify(RK_CTL_LEARN, 200, "OK", "{\"error\":\"something declined\"}", RK_OK, &why) ==
           RK_CTL_SKIPPED,
       "200 with an error: skipped, never learned");
    ok(classify(RK_CTL_LEARN, 0, NULL, NULL, RK_ERR_CONNECT, &why) == RK_CTL_FAILED &&
           why.code == RK_ERR_CONNECT,
       "no reply: failed with the transport error");
}

static void test_fuzzy(void)
{
    rk_error why;
    ok(classify(RK_CTL_FUZZY, 200, "OK", "{\"success\":true,\"hashes\":[\"ab\"]}", RK_OK, &why) ==
           RK_CTL_DONE,
       "fuzzy success with hashes: done");
    ok(classify(RK_CTL_FUZZY, 200, "OK", "{\"success\":true,\"hashes\":[]}", RK_OK, &why) ==
           RK_CTL_SKIPPED,
       "fuzzy success without hashes: skipped");
    ok(classify(RK_CTL_FUZZY, 404, "No content to generate fuzzy for flag 1",
                "{\"error\":\"No content to generate fuzzy for flag 1\"}", RK_ERR_HTTP, &why) ==
           RK_CTL_SKIPPED,
       "no content: skipped");
    ok(classify(RK_CTL_FUZZY, 404, "No fuzzy rules matched for flag 9",
                "{\"error\":\"No fuzzy rules matched for flag 9\"}", RK_ERR_HTTP, &why) ==
           RK_CTL_FAILED,
       "unknown flag: failed");
    ok(classify(RK_CTL_FUZZY, 208, "x", "{\"error\":\"already learned\"}", RK_OK, &why) !=
           RK_CTL_ALREADY,
       "fuzzy has no 'already learned'");
    is_str(rk_ctl_outcome_name(RK_CTL_LEARN, RK_CTL_DONE), "learned", "outcome name");
    is_str(rk_ctl_outcome_name(RK_CTL_FUZZY, RK_CTL_SKIPPED), "skipped", "outcome name");
}

static void test_settings(void)
{
    rk_error err;
    const char *c = NULL;
    ok(rk_action_name_canon("Add_Header", &c) == 0 && strcmp(c, "add header") == 0,
       "action names: case, underscores");
    ok(rk_action_name_canon("rewrite-subject", &c) == 0 && strcmp(c, "rewrite subject") == 0,
       "action names: hyphens");
    ok(rk_action_name_canon("bogus", &c) == -1, "unknown action");
    json_t *actions = json_loads("[{\"action\":\"greylist\",\"value\":4.0},"
                                 "{\"action\":\"add header\",\"value\":6.0},"
                                 "{\"action\":\"reject\",\"value\":15.0},"
                                 "{\"action\":\"soft reject\",\"value\":null},"
                                 "{\"action\":\"rewrite subject\",\"value\":null}]", 0, NULL);
    char *b = rk_saveactions_body(actions, "reject", 20, &err);
    is_str(b, "[20.0,null,6.0,4.0]", "saveactions: reject, rewrite subject, add header, greylist");
    free(b);
    b = rk_saveactions_body(actions, "greylist", 4.5, &err);
    is_str(b, "[15.0,null,6.0,4.5]", "saveactions: the others unchanged");
    free(b);
    b = rk_saveactions_body(actions, "rewrite_subject", NAN, &err);
    is_str(b, "[15.0,null,6.0,4.0]", "saveactions: NAN is null");
    free(b);
    b = rk_saveactions_body(actions, "soft reject", 3, &err);
    ok(!b && err.code == RK_ERR_USAGE, "saveactions cannot set soft reject");
    b = rk_saveactions_body(json_object_get(actions, "x"), "reject", 3, &err);
    ok(!b && err.code == RK_ERR_PROTOCOL, "saveactions needs the /actions array");
    json_decref(actions);
    b = rk_savesymbols_body("MISSING_DATE", 2.5, &err);
    is_str(b, "[{\"name\":\"MISSING_DATE\",\"value\":2.5}]", "savesymbols body");
    free(b);
    ok(!rk_savesymbols_body("X", NAN, &err) && err.code == RK_ERR_USAGE, "savesymbols: NAN");
    ok(!rk_savesymbols_body("", 1, &err), "savesymbols: empty name");
}

int main(void)
{
    test_learn();
    test_fuzzy();
    test_settings();
    return tap_done();
}
