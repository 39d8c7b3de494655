/* The /checkv2 reply parsed into rk_result. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int jnum(json_t *o, const char *key, double *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        return 0;
    *out = json_number_value(v);
    return 1;
}

RK_API void rk_result_clear(rk_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_symbols; i++)
        free(r->symbols[i].options);
    free(r->symbols);
    free(r->dkim);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

RK_API int rk_result_parse(const unsigned char *body, size_t len, size_t message_offset,
                           rk_result *r, rk_error *err)
{
    memset(r, 0, sizeof *r);
    size_t jlen = len;
    if (message_offset > 0 && message_offset < len) {
        jlen = message_offset;
        r->rewritten = body + message_offset;
        r->rewritten_len = len - message_offset;
    }
    if (jlen == 0)
        return rk_fail(err, RK_ERR_PROTOCOL, "empty reply body");
    json_error_t je;
    r->json = json_loadb((const char *)body, jlen, 0, &je);
    if (!r->json)
        return rk_fail(err, RK_ERR_PROTOCOL, "cannot parse reply: %s at line %d column %d",
                       je.text, je.line, je.column);
    if (!json_is_object(r->json)) {
        rk_result_clear(r);
        return rk_fail(err, RK_ERR_PROTOCOL, "cannot parse reply: not a JSON object");
    }
    json_t *j = r->json;
    r->action = jstr(j, "action");
    r->has_score = jnum(j, "score", &r->score);
    r->has_required = jnum(j, "required_score", &r->required_score);
    r->is_skipped = json_is_true(json_object_get(j, "is_skipped"));
    r->subject = jstr(j, "subject");
    r->message_id = jstr(j, "message-id");
    r->queue_id = jstr(j, "queue-id");
    r->error = jstr(j, "error");
    r->messages = json_object_get(j, "messages");
    r->urls = json_object_get(j, "urls");
    r->emails = json_object_get(j, "emails");
    r->milter = json_object_get(j, "milter");
    r->thresholds = json_object_get(j, "thresholds");
    r->profile = json_object_get(j, "profile");

    json_t *dk = json_object_get(j, "dkim-signature");
    if (json_is_string(dk) || json_is_array(dk)) {
        size_t n = json_is_string(dk) ? 1 : json_array_size(dk);
        r->dkim = calloc(n ? n : 1, sizeof *r->dkim);
        if (!r->dkim)
            goto nomem;
        if (json_is_string(dk))
            r->dkim[r->n_dkim++] = json_string_value(dk);
        else
            for (size_t i = 0; i < n; i++)
                if (json_is_string(json_array_get(dk, i)))
                    r->dkim[r->n_dkim++] = json_string_value(json_array_get(dk, i));
    }

    json_t *syms = json_object_get(j, "symbols");
    if (json_is_object(syms) && json_object_size(syms)) {
        r->symbols = calloc(json_object_size(syms), sizeof *r->symbols);
        if (!r->symbols)
            goto nomem;
        const char *key;
        json_t *s;
        json_object_foreach(syms, key, s) {
            if (!json_is_object(s))
                continue;
            rk_symbol *y = &r->symbols[r->n_symbols++];
            y->name = key;
            y->has_score = jnum(s, "score", &y->score);
            jnum(s, "metric_score", &y->metric_score);
            y->description = jstr(s, "description");
            json_t *opts = json_object_get(s, "options");
            if (json_is_array(opts)) {
                y->has_options = 1;
                y->options = calloc(json_array_size(opts) + 1, sizeof *y->options);
                if (!y->options)
                    goto nomem;
                for (size_t i = 0; i < json_array_size(opts); i++)
                    if (json_is_string(json_array_get(opts, i)))
                        y->options[y->n_options++] = json_string_value(json_array_get(opts, i));
            }
        }
    }
    return 0;
nomem:
    rk_result_clear(r);
    return rk_fail(err, RK_ERR_NOMEM, "out of memory");
}

RK_API int rk_action_is_spam(const char *a)
{
    static const char *const spam[] = {"reject", "soft reject", "soft_reject", "rewrite subject",
                                       "rewrite_subject", "add header", "add_header"};
    static const char *const ham[] = {"greylist", "no action", "no_action"};
    if (!a)
        return -1;
    for (size_t i = 0; i < sizeof spam / sizeof *spam; i++)
        if (strcasecmp(a, spam[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof ham / sizeof *ham; i++)
        if (strcasecmp(a, ham[i]) == 0)
            return 0;
    return -1;
}
