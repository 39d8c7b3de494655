/* HTTP/1.x response parsing (private). */
#ifndef RK_HTTP_H
#define RK_HTTP_H
#include "rspamkit.h"

/* 1 when `p` holds a full response (headers and Content-Length bytes). */
int rk_http_complete(const unsigned char *p, size_t len);
/* Parse a complete response (or what arrived before EOF) into resp. */
int rk_http_parse_response(const unsigned char *p, size_t len, rk_response *resp, rk_error *err);
#endif
