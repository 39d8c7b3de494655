/* Unit tests of lib/reply/: the /checkv2 reply (strict and lenient), the
 * JSON/UCL emitter, and the controller's requests, what learn and fuzzy replies
 * mean, the typed stat/counters/uptime/actions views of canned replies (and
 * malformed ones), and the bodies of /saveactions and /savesymbols. */
#include "config.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

/* A reply as the client would return it, classified into `out` (cleared by
 * the caller) or, with out NULL, into a reply that is cleared here. */
static rk_ctl_outcome classify_op(rk_ctl_op op, int status, const char *reason,
                                  const char *body, rk_status code, rk_error *why,
                                  rk_ctl_reply *out)
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
    r.elapsed = 0.25;
    rk_ctl_reply tmp, *rep = out ? out : &tmp;
    rk_ctl_outcome oc = rk_ctl_classify(op, status ? &r : NULL, &err, rep);
    *why = rep->why;
    if (!out)
        rk_ctl_reply_clear(&tmp);
    return oc;
}

static rk_ctl_outcome classify(rk_ctl_kind kind, int status, const char *reason,
                               const char *body, rk_status code, rk_error *why)
{
    return classify_op(kind == RK_CTL_LEARN ? RK_LEARN_SPAM : RK_FUZZY_ADD, status, reason, body,
                       code, why, NULL);
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

static void test_requests(void)
{
    rk_request req = {0};
    rk_ctl_request(RK_LEARN_HAM, &req);
    is_str(req.path, "/learnham", "learn_ham path");
    is_str(req.method, "POST", "learn_ham method");
    rk_ctl_request(RK_FUZZY_DELHASH, &req);
    is_str(req.path, "/fuzzydelhash", "delhash path");
    is_str(req.method, "GET", "delhash has no body: GET");
    ok(rk_ctl_op_kind(RK_LEARN_CLASS) == RK_CTL_LEARN && rk_ctl_op_kind(RK_FUZZY_DEL) == RK_CTL_FUZZY,
       "kinds of operations");

    char hash[RK_FUZZY_HASH_HEX + 2];
    memset(hash, 'a', RK_FUZZY_HASH_HEX);
    hash[RK_FUZZY_HASH_HEX] = 0;
    ok(rk_fuzzy_hash_valid(hash), "128 hex digits: a hash");
    hash[3] = 'G';
    ok(!rk_fuzzy_hash_valid(hash), "a non-hex digit: not a hash");
    hash[3] = 'F';
    hash[RK_FUZZY_HASH_HEX] = 'a';
    hash[RK_FUZZY_HASH_HEX + 1] = 0;
    ok(!rk_fuzzy_hash_valid(hash), "129 digits: not a hash");
    ok(!rk_fuzzy_hash_valid(""), "empty: not a hash");
    hash[RK_FUZZY_HASH_HEX] = 0;

    rk_headers h = {0};
    rk_error err;
    const char *hs[] = {hash};
    rk_ctl_args a = {.cls = "news", .filename = "f.eml", .hashes = hs, .n_hashes = 1};
    ok(rk_ctl_headers(RK_LEARN_CLASS, &a, &h, &err) == 0 && h.n == 2, "learn_class: two headers");
    is_str(rk_headers_get(&h, "Class"), "news", "Class header");
    is_str(rk_headers_get(&h, "Filename"), "f.eml", "Filename header");
    rk_headers_clear(&h);
    ok(rk_ctl_headers(RK_LEARN_SPAM, &a, &h, &err) == 0 && h.n == 1 && !rk_headers_get(&h, "Class"),
       "learn_spam sends no Class");
    rk_headers_clear(&h);
    ok(rk_ctl_headers(RK_FUZZY_DELHASH, &a, &h, &err) == 0 && h.n == 2, "delhash: Hash, Filename");
    is_str(h.v[0].name, "Hash", "Hash first");
    rk_headers_clear(&h);
    const char *bad[] = {"xyz"};
    a.hashes = bad;
    ok(rk_ctl_headers(RK_FUZZY_DELHASH, &a, &h, &err) == -1 && err.code == RK_ERR_USAGE,
       "delhash refuses what is not a hash");
    rk_headers_clear(&h);
}

static void test_replies(void)
{
    rk_error why;
    rk_ctl_reply r;
    ok(classify_op(RK_FUZZY_ADD, 200, "OK", "{\"success\":true,\"hashes\":[\"ab\",7,\"cd\"]}", RK_OK,
                   &why, &r) == RK_CTL_DONE,
       "fuzzy reply with hashes");
    ok(r.n_hashes == 2, "the strings of hashes");
    is_str(r.hashes[1], "cd", "second hash");
    ok(r.doc != NULL && r.elapsed == 0.25, "the body and the time are kept");
    char *js = rk_ctl_reply_json(&r, "m.eml", "added", NULL, 1);
    is_str(js, "{\"filename\":\"m.eml\",\"outcome\":\"added\",\"status\":200,"
               "\"hashes\":[\"ab\",7,\"cd\"],\"time\":0.25}", "--json line of a fuzzy reply");
    free(js);
    size_t len;
    char *u = rk_ctl_doc_emit(r.doc, RK_EMIT_COMPACT, "m.eml", 0.5, &len);
    is_str(u, "{\"success\":true,\"hashes\":[\"ab\",7,\"cd\"],\"filename\":\"m.eml\","
              "\"scan_time\":0.500000}\n", "rspamc's compact dump with filename and scan_time");
    ok(u && len == strlen(u), "its length");
    free(u);
    u = rk_ctl_doc_emit(r.doc, RK_EMIT_UCL, NULL, 0, &len);
    ok(u && strstr(u, "success = true;\n") && !strstr(u, "filename"), "UCL dump, no filename");
    free(u);
    rk_ctl_reply_clear(&r);
    ok(r.doc == NULL && r.hashes == NULL, "cleared");

    ok(classify_op(RK_LEARN_HAM, 208, "x", "{\"error\":\"already learned\"}", RK_OK, &why, &r) ==
           RK_CTL_ALREADY, "208");
    js = rk_ctl_reply_json(&r, "a", "already_learned", "ham", 0);
    is_str(js, "{\"filename\":\"a\",\"outcome\":\"already_learned\",\"class\":\"ham\",\"status\":208,"
               "\"message\":\"already learned\",\"time\":0.25}", "--json line of a learn reply");
    free(js);
    rk_ctl_reply_clear(&r);

    ok(classify_op(RK_LEARN_CLASS, 404, "Not found", "{\"error\":\"Not found\"}", RK_ERR_HTTP, &why,
                   NULL) == RK_CTL_FAILED, "learn_class on a server without it: failed");
    ok(strstr(why.msg, "the server has no /learnclass") != NULL, "says why");
    ok(classify_op(RK_LEARN_SPAM, 404, "Not found", "{\"error\":\"Not found\"}", RK_ERR_HTTP, &why,
                   NULL) == RK_CTL_FAILED && !strstr(why.msg, "learnclass"),
       "the same 404 on learn_spam is not about learnclass");

    rk_error e;
    rk_error_clear(&e);
    e.code = RK_ERR_INPUT;
    snprintf(e.msg, sizeof e.msg, "cannot read");
    rk_ctl_reply_fail(&r, &e);
    ok(r.outcome == RK_CTL_FAILED && r.why.code == RK_ERR_INPUT && !r.doc, "a request never sent");
    js = rk_ctl_reply_json(&r, NULL, "failed", NULL, 1);
    is_str(js, "{\"outcome\":\"failed\",\"status\":null,\"hashes\":[],\"message\":\"cannot read\","
               "\"time\":0.0}", "its --json line");
    free(js);
    rk_ctl_reply_clear(&r);
}

static rk_ctl_doc *doc(const char *s)
{
    rk_ctl_doc *d = NULL;
    rk_error err;
    rk_ctl_doc_parse(s, strlen(s), &d, &err);
    return d;
}

static void test_stat(void)
{
    rk_error err;
    rk_stat st;
    rk_ctl_doc *d = doc("{\"scanned\":3,\"learned\":2.9,\"actions\":{\"reject\":2,\"no action\":true},"
                        "\"scan_times\":[0.5,nan,-nan,inf,-Infinity,1,\"nan\"],\"spam_count\":2,"
                        "\"fuzzy_hashes\":{\"local\":10},\"fuzzy_checked\":[1,\"x\",3],"
                        "\"statfiles\":[{\"symbol\":\"BAYES_SPAM\",\"label\":\"spam\",\"total\":100,"
                        "\"used\":10,\"type\":\"redis\"},{\"symbol\":7},3],\"total_learns\":15,"
                        "\"note\":\"nan inf\"}");
    ok(d != NULL, "a stat reply with nan and inf parses");
    ok(rk_ctl_stat(d, &st, &err) == 0, "stat view");
    ok(st.scanned == 3 && st.learned == 2 && st.spam_count == 2 && st.ham_count == 0 &&
           st.total_learns == 15, "counters; a real truncated; missing is 0");
    ok(st.n_actions == 2 && strcmp(st.actions[1].name, "no action") == 0 && st.actions[1].count == 0,
       "actions in reply order; a non-number counts 0");
    ok(st.has_scan_times && st.n_scan_times == 2 && st.scan_times[0] == 0.5 &&
           st.scan_times[1] == 1, "scan_times: nan, inf and strings left out");
    ok(st.has_fuzzy_hashes && st.n_fuzzy_hashes == 1 && st.fuzzy_hashes[0].count == 10,
       "fuzzy hashes per storage");
    ok(st.has_fuzzy_checked && st.n_fuzzy_checked == 3 && st.fuzzy_checked[1] == 0 &&
           !st.has_fuzzy_found, "fuzzy_checked; fuzzy_found absent");
    ok(st.n_statfiles == 3, "every statfile entry");
    is_str(st.statfiles[0].label, "spam", "statfile label");
    ok(st.statfiles[0].total == 100 && st.statfiles[0].used == 10, "statfile blocks");
    ok(st.statfiles[1].label == NULL && strcmp(st.statfiles[1].symbol, "") == 0 &&
           strcmp(st.statfiles[2].type, "") == 0, "malformed statfiles: empty strings, no label");
    rk_stat_clear(&st);
    size_t len;
    char *js = rk_ctl_doc_emit(d, RK_EMIT_COMPACT, NULL, 0, &len);
    ok(js && strstr(js, "\"scan_times\":[0.500000,null,null,null,null,1,\"nan\"]"),
       "emitted: nan and inf are null, the string stays");
    ok(js && strstr(js, "\"note\":\"nan inf\""), "nan inside a string is kept");
    free(js);
    rk_ctl_doc_free(d);

    d = doc("[1,2]");
    ok(rk_ctl_stat(d, &st, &err) == -1 && err.code == RK_ERR_PROTOCOL, "stat of an array: protocol");
    rk_ctl_doc_free(d);
    rk_ctl_doc *bad = NULL;
    ok(rk_ctl_doc_parse("{\"a\":nano}", 10, &bad, &err) == -1 && err.code == RK_ERR_PROTOCOL && !bad,
       "nano is not nan: invalid");
    ok(rk_ctl_doc_parse("", 0, &bad, &err) == -1, "empty body: invalid");
    is_str(err.msg, "empty body", "says so");
    ok(rk_ctl_doc_parse("{\"a\":", 5, &bad, &err) == -1, "truncated: invalid");
    ok(rk_ctl_doc_parse("\"x\"", 3, &bad, &err) == -1, "a string is not a reply");
}

static void test_views(void)
{
    rk_error err;
    rk_ctl_doc *d = doc("[{\"symbol\":\"A\",\"weight\":1.5,\"frequency\":0.1,\"hits\":12,\"time\":2},"
                        "{\"symbol\":\"B\",\"weight\":2},{\"weight\":1,\"frequency\":0,\"hits\":1},"
                        "7]");
    rk_counter *c = NULL;
    size_t n = 0;
    ok(rk_ctl_counters(d, &c, &n, &err) == 0 && n == 4, "counters: every entry");
    ok(c[0].complete && c[0].weight == 1.5 && c[0].hits == 12 && c[0].time == 2 &&
           c[0].frequency_stddev == 0, "a complete row");
    ok(!c[1].complete && !c[2].complete && !c[3].complete && c[3].symbol == NULL,
       "incomplete rows are marked");
    free(c);
    ok(rk_ctl_uptime(d, &(rk_uptime){0}, &err) == -1, "uptime of an array: protocol");

    rk_action_score *a = NULL;
    ok(rk_ctl_actions(d, &a, &n, &err) == 0 && n == 0, "actions: entries without a name left out");
    free(a);
    rk_ctl_doc_free(d);

    d = doc("{\"version\":\"3.4\",\"uptime\":90061.7}");
    rk_uptime u;
    ok(rk_ctl_uptime(d, &u, &err) == 0 && u.has_uptime && u.uptime == 90061, "uptime");
    is_str(u.version, "3.4", "version");
    rk_ctl_doc_free(d);
    d = doc("{\"version\":3}");
    ok(rk_ctl_uptime(d, &u, &err) == 0 && !u.has_uptime && strcmp(u.version, "") == 0,
       "a version that is not a string; no uptime");
    ok(rk_ctl_counters(d, &c, &n, &err) == -1 && err.code == RK_ERR_PROTOCOL && !c,
       "counters of an object: protocol");
    rk_ctl_doc_free(d);
    d = doc("{}");
    ok(rk_ctl_uptime(d, &u, &err) == 0 && !u.version && !u.has_uptime, "nothing in it");
    rk_ctl_doc_free(d);

    d = doc("[{\"action\":\"reject\",\"value\":15},{\"action\":\"greylist\",\"value\":null},"
            "{\"value\":3},{\"action\":\"add header\",\"value\":\"x\"}]");
    ok(rk_ctl_actions(d, &a, &n, &err) == 0 && n == 3, "actions");
    ok(a[0].score == 15 && isnan(a[1].score) && isnan(a[2].score), "disabled is NAN");
    is_str(a[2].name, "add header", "names as the server spells them");
    size_t len;
    char *s = rk_ctl_doc_emit(d, RK_EMIT_UCL, NULL, 0, &len);
    ok(s && len && s[len - 1] == '\n' && (len < 2 || s[len - 2] != '\n'),
       "a top-level array in UCL ends with one newline");
    free(s);
    free(a);
    rk_ctl_doc_free(d);
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
    ok(rk_ctl_action_settable("Rewrite_Subject") && rk_ctl_action_settable("greylist") &&
           !rk_ctl_action_settable("soft reject") && !rk_ctl_action_settable("no_action") &&
           !rk_ctl_action_settable("bogus"), "the four actions 3.4 can set");
    const rk_action_score actions[] = {{"greylist", 4.0}, {"add header", 6.0}, {"reject", 15.0},
                                       {"soft reject", NAN}, {"rewrite subject", NAN}};
    size_t na = sizeof actions / sizeof *actions;
    char *b = rk_saveactions_body(actions, na, "reject", 20, &err);
    is_str(b, "[20.0,null,6.0,4.0]", "saveactions: reject, rewrite subject, add header, greylist");
    free(b);
    b = rk_saveactions_body(actions, na, "greylist", 4.5, &err);
    is_str(b, "[15.0,null,6.0,4.5]", "saveactions: the others unchanged");
    free(b);
    b = rk_saveactions_body(actions, na, "rewrite_subject", NAN, &err);
    is_str(b, "[15.0,null,6.0,4.0]", "saveactions: NAN is null");
    free(b);
    b = rk_saveactions_body(actions, na, "soft reject", 3, &err);
    ok(!b && err.code == RK_ERR_USAGE, "saveactions cannot set soft reject");
    b = rk_saveactions_body(NULL, 0, "reject", 3, &err);
    is_str(b, "[3.0,null,null,null]", "saveactions without actions: the others disabled");
    free(b);
    b = rk_savesymbols_body("MISSING_DATE", 2.5, &err);
    is_str(b, "[{\"name\":\"MISSING_DATE\",\"value\":2.5}]", "savesymbols body");
    free(b);
    ok(!rk_savesymbols_body("X", NAN, &err) && err.code == RK_ERR_USAGE, "savesymbols: NAN");
    ok(!rk_savesymbols_body("", 1, &err), "savesymbols: empty name");
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
    /* found by tests/fuzz (message): a second dkim-signature key wrote past
     * the list it added to */
    static const char f3[] = "{\"dkim-signature\":\"a\",\"dkim-signature\":\"b\",\"dkim-signature\":[\"c\"]}";
    ok(rk_result_parse((const unsigned char *)f3, strlen(f3), 0, 0, &r, &err) == 0 && r.n_dkim == 3 &&
           strcmp(r.dkim[1], "b") == 0 && strcmp(r.dkim[2], "c") == 0 && !r.dkim[3],
       "dkim-signature given three times: all kept");
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

static void test_result_extras(void)
{
    const char *body = "{\"action\":\"no action\",\"score\":1.5,\"required_score\":15,"
                       "\"thresholds\":{\"reject\":15,\"add header\":6,\"greylist\":\"4\"},"
                       "\"urls\":[\"example.com\"],\"emails\":[]}";
    rk_result r;
    rk_error err;
    ok(rk_result_parse((const unsigned char *)body, strlen(body), 0, 0, &r, &err) == 0,
       "a reply with thresholds parses");
    double v = -1;
    ok(rk_result_threshold(&r, "add header", &v) == 1 && v == 6, "threshold of add header");
    v = -1;
    ok(rk_result_threshold(&r, "greylist", &v) == 0 && v == -1,
       "a threshold that is not a number is absent");
    ok(rk_result_threshold(&r, "rewrite subject", &v) == 0, "a missing threshold is absent");
    char *s = rk_result_emit_member(&r, "urls", RK_EMIT_COMPACT, NULL);
    is_str(s, "[\"example.com\"]", "urls as compact JSON");
    free(s);
    s = rk_result_emit_member(&r, "emails", RK_EMIT_JSON, NULL);
    is_str(s, "[]", "an empty emails list");
    free(s);
    ok(rk_result_emit_member(&r, "profile", RK_EMIT_JSON, NULL) == NULL,
       "a member the reply lacks is NULL");
    ok(rk_result_emit_member(&r, "action", RK_EMIT_JSON, NULL) == NULL,
       "a member that is not kept as JSON is NULL");
    rk_result_clear(&r);
    ok(rk_result_threshold(&r, "reject", &v) == 0, "a cleared result has no thresholds");

    /* neural_learn's report: a scan reply, then learn_message replies */
    ok(rk_result_parse((const unsigned char *)body, strlen(body), 0, RK_RESULT_TREE, &r, &err) == 0,
       "parsed with its tree");
    size_t len = 0;
    s = rk_emit_neural(&r, "spam", &len);
    is_str(s, "success = true;\nmethod = \"scan\";\nclass = \"spam\";\n", "neural report of a scan");
    ok(s && len == strlen(s), "its length");
    free(s);
    rk_result_clear(&r);
    const char *learn = "{\"success\":\"yes\",\"filename\":\"m.eml\",\"scan_time\":0.25,"
                        "\"stored\":1234,\"key\":\"k1\"}";
    ok(rk_result_parse((const unsigned char *)learn, strlen(learn), 0, RK_RESULT_TREE, &r, &err) == 0,
       "a learn_message reply parses");
    s = rk_emit_neural(&r, "ham", NULL);
    is_str(s,
           "success = true;\nfilename = \"m.eml\";\nscan_time = 0.250000;\nclass = \"ham\";\n"
           "stored = 1234 bytes;\nkey = \"k1\";\n",
           "neural report of learn_message, \"yes\" read as true");
    free(s);
    rk_result_clear(&r);
    const char *no = "{\"success\":0,\"scan_time\":-1}";
    ok(rk_result_parse((const unsigned char *)no, strlen(no), 0, RK_RESULT_TREE, &r, &err) == 0,
       "a failed learn_message reply parses");
    s = rk_emit_neural(&r, "ham", NULL);
    is_str(s, "success = false;\nclass = \"ham\";\n", "0 is false; a negative scan_time is left out");
    free(s);
    rk_result_clear(&r);

    /* milter blocks with arrays (Rspamd 4.x): each usable element, in order */
    const char *mil = "{\"milter\":{\"add_headers\":{\"A\":[{\"value\":\"1\",\"order\":0},\"2\",3,[\"x\"],"
                      "{\"order\":1}],\"B\":\"b\"},\"remove_headers\":{\"C\":[1,\"x\",2.5,-1,3],\"D\":0}}}";
    ok(rk_result_parse((const unsigned char *)mil, strlen(mil), 0, 0, &r, &err) == 0,
       "a milter block with arrays parses");
    ok(r.n_milter_add == 3 && !strcmp(r.milter_add[0].name, "A") &&
           !strcmp(r.milter_add[0].value, "1") && !strcmp(r.milter_add[1].name, "A") &&
           !strcmp(r.milter_add[1].value, "2") && !strcmp(r.milter_add[2].name, "B") &&
           !strcmp(r.milter_add[2].value, "b"),
       "add_headers: strings and objects' values, other elements left out");
    ok(r.n_milter_remove == 4 && !strcmp(r.milter_remove[0].name, "C") &&
           r.milter_remove[0].index == 1 && r.milter_remove[1].index == -1 &&
           r.milter_remove[2].index == 3 && !strcmp(r.milter_remove[3].name, "D") &&
           r.milter_remove[3].index == 0,
       "remove_headers: the integers of an array, in order");
    rk_result_clear(&r);

    /* which neural rules learn without a scan */
    const char *cfg = "{\"data\":{\"rules\":{\"default\":{\"requires_scan\":false},"
                      "\"big\":{\"requires_scan\":true},\"other\":{}}}}";
    rk_ctl_doc *d = NULL;
    ok(rk_ctl_doc_parse(cfg, strlen(cfg), &d, &err) == 0, "a neural config parses");
    ok(rk_ctl_neural_requires_scan(d, NULL) == 0, "default rule: learn_message");
    ok(rk_ctl_neural_requires_scan(d, "big") == 1, "requires_scan true: scan");
    ok(rk_ctl_neural_requires_scan(d, "other") == 1, "no requires_scan: scan");
    ok(rk_ctl_neural_requires_scan(d, "missing") == 1, "an unknown rule: scan");
    rk_ctl_doc_free(d);
    ok(rk_ctl_neural_requires_scan(NULL, NULL) == 1, "no reply: scan");
}

int main(void)
{
    test_result_extras();
    test_result();
    test_result_strict();
    test_emit();
    test_learn();
    test_fuzzy();
    test_requests();
    test_replies();
    test_stat();
    test_views();
    test_settings();
    return tap_done();
}
