/* Controller replies: what a learn or fuzzy reply means, and the request
 * bodies of /saveactions and /savesymbols. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

RK_API const char *rk_ctl_outcome_name(rk_ctl_kind kind, rk_ctl_outcome o)
{
    switch (o) {
    case RK_CTL_DONE: return kind == RK_CTL_LEARN ? "learned" : "done";
    case RK_CTL_ALREADY: return "already learned";
    case RK_CTL_SKIPPED: return "skipped";
    case RK_CTL_FAILED: return "failed";
    }
    return "unknown";
}

static void set_why(rk_error *why, rk_status code, int status, const char *msg)
{
    if (!why)
        return;
    why->code = code;
    why->http_status = status;
    snprintf(why->msg, sizeof why->msg, "%s", msg ? msg : "");
}

/* Case-insensitive substring search. */
static int has(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; hay && *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

/* Messages by which Rspamd (3.x and older 1.x/2.x paths) says "not learned,
 * but nothing is wrong": the learn cache, learn conditions, token count. */
static int learn_already(const char *m)
{
    return has(m, "already learned") || has(m, "already been learned");
}

static int learn_declined(const char *m)
{
    return has(m, "learn conditions denied") || has(m, "less tokens than required") ||
           has(m, "already in class") || has(m, "conditions denied") ||
           has(m, "skip learning") || has(m, "skipped learning");
}

static int fuzzy_declined(const char *m)
{
    return has(m, "No content to generate fuzzy") || has(m, "no hashes");
}

RK_API rk_ctl_outcome rk_ctl_classify(rk_ctl_kind kind, const rk_response *resp,
                                      const rk_error *err, json_t **reply, rk_error *why)
{
    json_t *body = NULL;
    const char *emsg = NULL;
    int status = resp ? resp->status : 0;
    rk_ctl_outcome out;

    if (reply)
        *reply = NULL;
    rk_error_clear(why);
    /* No reply at all: transport failure, as the client reported it. */
    if (!resp || status == 0) {
        if (why) {
            *why = *err;
            if (why->code == RK_OK) {
                why->code = RK_ERR_RECV;
                snprintf(why->msg, sizeof why->msg, "no reply from %s",
                         resp && resp->host ? resp->host : "the server");
            }
        }
        return RK_CTL_FAILED;
    }
    if (resp->body && resp->body_len) {
        body = json_loadb((const char *)resp->body, resp->body_len, 0, NULL);
        emsg = json_string_value(json_object_get(body, "error"));
    }
    if (!emsg && status != 200)
        emsg = resp->reason && *resp->reason ? resp->reason : NULL;

    if (err && err->code == RK_ERR_AUTH) {
        set_why(why, RK_ERR_AUTH, status, err->msg);
        out = RK_CTL_FAILED;
    } else if (status >= 200 && status <= 299) {
        if (!body || !json_is_object(body)) {
            char m[400];
            snprintf(m, sizeof m, "bad reply from %.200s: %s", resp->host ? resp->host : "server",
                     resp->body_len ? "not a JSON object" : "empty body");
            set_why(why, RK_ERR_PROTOCOL, status, m);
            out = RK_CTL_FAILED;
        } else if (kind == RK_CTL_LEARN && status == 208) {
            set_why(why, RK_OK, status, emsg ? emsg : "already learned");
            out = RK_CTL_ALREADY;
        } else if (status == 204) {
            set_why(why, RK_OK, status, emsg ? emsg : "the server declined the request");
            out = RK_CTL_SKIPPED;
        } else if (emsg) {
            /* 2xx carrying an error: declined by the server, not an error of ours. */
            set_why(why, RK_OK, status, emsg);
            out = kind == RK_CTL_LEARN && learn_already(emsg) ? RK_CTL_ALREADY : RK_CTL_SKIPPED;
        } else if (json_is_false(json_object_get(body, "success"))) {
            set_why(why, RK_ERR_SERVER, status, "the server answered \"success\": false");
            out = RK_CTL_FAILED;
        } else if (kind == RK_CTL_FUZZY && json_is_array(json_object_get(body, "hashes")) &&
                   json_array_size(json_object_get(body, "hashes")) == 0) {
            set_why(why, RK_OK, status, "the server made no hashes of it");
            out = RK_CTL_SKIPPED;
        } else {
            out = RK_CTL_DONE;
        }
    } else {
        /* 3xx/4xx/5xx: failures, except the ways older servers say
         * "already learned" or "declined" with an error status. */
        char m[sizeof why->msg];
        snprintf(m, sizeof m, "HTTP error: %d, %s", status, emsg ? emsg : "(no reason)");
        if (kind == RK_CTL_LEARN && emsg && learn_already(emsg)) {
            set_why(why, RK_OK, status, emsg);
            out = RK_CTL_ALREADY;
        } else if (emsg && (kind == RK_CTL_LEARN ? learn_declined(emsg) : fuzzy_declined(emsg))) {
            set_why(why, RK_OK, status, emsg);
            out = RK_CTL_SKIPPED;
        } else {
            set_why(why, err && err->code != RK_OK ? err->code : RK_ERR_HTTP, status, m);
            out = RK_CTL_FAILED;
        }
    }
    if (why)
        why->http_status = status;
    if (reply && json_is_object(body))
        *reply = body;
    else
        json_decref(body);
    return out;
}

/* ------------------------------------------------------------ settings */

/* The four slots of 3.4's /saveactions, in its order. */
static const char *const save_slots[4] = {"reject", "rewrite subject", "add header", "greylist"};

RK_API int rk_action_name_canon(const char *name, const char **canon)
{
    char buf[64];
    size_t n = strlen(name);
    if (n >= sizeof buf)
        return -1;
    for (size_t i = 0; i <= n; i++)
        buf[i] = (name[i] == '_' || name[i] == '-') ? ' ' : name[i];
    static const char *const all[] = {"reject", "rewrite subject", "add header", "greylist",
                                      "soft reject", "no action", "discard", "quarantine"};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (strcasecmp(buf, all[i]) == 0) {
            *canon = all[i];
            return 0;
        }
    return -1;
}

RK_API char *rk_saveactions_body(const json_t *actions, const char *action, double score,
                                 rk_error *err)
{
    const char *canon;
    int slot = -1;
    if (rk_action_name_canon(action, &canon) == 0)
        for (int i = 0; i < 4; i++)
            if (strcmp(canon, save_slots[i]) == 0)
                slot = i;
    if (slot < 0) {
        rk_fail(err, RK_ERR_USAGE,
                "cannot set action '%s': the controller's /saveactions takes only reject, "
                "rewrite subject, add header and greylist", action);
        return NULL;
    }
    if (!json_is_array(actions)) {
        rk_fail(err, RK_ERR_PROTOCOL, "the /actions reply is not an array");
        return NULL;
    }
    json_t *arr = json_array();
    for (int i = 0; arr && i < 4; i++) {
        json_t *v = NULL;
        if (i == slot) {
            v = isnan(score) ? json_null() : json_real(score);
        } else {
            size_t k;
            json_t *a;
            json_array_foreach(actions, k, a) {
                const char *n = json_string_value(json_object_get(a, "action"));
                const char *c;
                if (n && rk_action_name_canon(n, &c) == 0 && strcmp(c, save_slots[i]) == 0) {
                    json_t *val = json_object_get(a, "value");
                    v = json_is_number(val) ? json_real(json_number_value(val)) : json_null();
                    break;
                }
            }
            if (!v)
                v = json_null(); /* not configured: stays disabled */
        }
        json_array_append_new(arr, v);
    }
    char *s = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (!s)
        rk_fail(err, RK_ERR_NOMEM, "out of memory");
    return s;
}

RK_API char *rk_savesymbols_body(const char *symbol, double weight, rk_error *err)
{
    if (!symbol || !*symbol || isnan(weight) || isinf(weight)) {
        rk_fail(err, RK_ERR_USAGE, "a symbol name and a finite weight are needed");
        return NULL;
    }
    json_t *arr = json_pack("[{s:s, s:f}]", "name", symbol, "value", weight);
    char *s = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (!s)
        rk_fail(err, RK_ERR_NOMEM, "out of memory");
    return s;
}
