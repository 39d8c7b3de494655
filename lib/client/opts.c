/* Scan, learn and fuzzy options turned into request headers (rspamc's names). */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int add(rk_headers *h, const char *name, const char *value, rk_error *err)
{
    if (value && rk_headers_add(h, name, value))
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    return 0;
}

RK_API int rk_msg_opts_headers_sized(const rk_msg_opts *caller, size_t o_size, rk_headers *h,
                                     rk_error *err)
{
    rk_msg_opts full = {0}, *o = &full;
    if (rk_sized_in(&full, sizeof full, caller, o_size, err))
        return -1;
    char num[32];
    if (add(h, "User-Agent", o->user_agent ? o->user_agent : "rspamkit", err) ||
        add(h, "Ip", o->ip, err) || add(h, "From", o->from, err) ||
        add(h, "Helo", o->helo, err) || add(h, "Hostname", o->hostname, err) ||
        add(h, "User", o->user, err) || add(h, "Deliver-To", o->deliver_to, err) ||
        add(h, "Queue-Id", o->queue_id, err) || add(h, "Log-Tag", o->log_tag, err) ||
        add(h, "Settings", o->settings, err) || add(h, "Settings-Id", o->settings_id, err) ||
        add(h, "Filename", o->filename, err) || add(h, "Classifier", o->classifier, err) ||
        add(h, "Symbol", o->fuzzy_symbol, err))
        return -1;
    for (size_t i = 0; i < o->n_rcpt; i++)
        if (add(h, "Rcpt", o->rcpt[i], err))
            return -1;
    if (o->weight) {
        snprintf(num, sizeof num, "%d", o->weight);
        if (add(h, "Weight", num, err))
            return -1;
    }
    if (o->flag) {
        snprintf(num, sizeof num, "%d", o->flag);
        if (add(h, "Flag", num, err))
            return -1;
    }
    if ((o->raw && add(h, "Raw", "yes", err)) ||
        (o->extended_urls && add(h, "URL-Format", "extended", err)) ||
        (o->skip_images && add(h, "Skip-Images", "true", err)) ||
        (o->skip_attachments && add(h, "Skip-Attachments", "true", err)))
        return -1;
    char flags[64] = "";
    if (o->pass_all)
        strcat(flags, "pass_all,");
    if (o->profile)
        strcat(flags, "profile,");
    strcat(flags, "body_block");
    if (add(h, "Flags", flags, err))
        return -1;
    for (size_t i = 0; i < o->n_extra; i++) {
        const char *s = o->extra[i];
        size_t cut = strcspn(s, ":=");
        const char *val = s[cut] ? s + cut + 1 : "";
        if (cut == 0)
            return rk_fail(err, RK_ERR_USAGE, "invalid header '%s': empty name", s);
        if (strcspn(s, "\r\n") != strlen(s))
            return rk_fail(err, RK_ERR_USAGE, "invalid header '%.40s': contains a line break", s);
        /* A custom User-Agent replaces the default one, as in rspamc. */
        if (cut == 10 && strncasecmp(s, "User-Agent", 10) == 0) {
            for (size_t k = 0; k < h->n; k++)
                if (strcasecmp(h->v[k].name, "User-Agent") == 0) {
                    char *nv = strdup(val);
                    if (!nv)
                        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
                    free(h->v[k].value);
                    h->v[k].value = nv;
                    goto next;
                }
        }
        if (rk_headers_addn(h, s, cut, val, strlen(val)))
            return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    next:;
    }
    return 0;
}
