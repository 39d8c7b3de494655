/*
 * Unit tests of the transport internals:
 *  - HTTPCrypt against the known-answer vectors of tests/data/httpcrypt-kat.json
 *    (a copy of spec/httpcrypt-kat.json: every request vector was accepted
 *    by a live Rspamd 3.4, every reply vector was recorded from it);
 *  - tampering, truncation and key parsing;
 *  - new server keypairs (rk_keypair_generate);
 *  - zstd round trips and bad frames;
 *  - the dead-host state file.
 * Prints TAP.
 */
#include "config.h"
#include "internal.h"
#include "client/http.h"
#include "transport/transport.h"
#include "core/base32.h"
#include "tap.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef RK_KAT_FILE
#define RK_KAT_FILE "tests/data/httpcrypt-kat.json"
#endif

static json_t *kat;

static const char *kstr(json_t *o, const char *path)
{
    /* "a.b" lookups */
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *v = o;
    for (char *save = NULL, *t = strtok_r(buf, ".", &save); t && v; t = strtok_r(NULL, ".", &save))
        v = json_object_get(v, t);
    return json_string_value(v);
}

/* Hex string -> malloc'd bytes. */
static unsigned char *unhex(const char *h, size_t *len)
{
    size_t n = h ? strlen(h) / 2 : 0;
    unsigned char *p = malloc(n + 1);
    for (size_t i = 0; p && i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        p[i] = (unsigned char)v;
    }
    if (len)
        *len = n;
    return p;
}

static int same_hex(const unsigned char *p, size_t n, const char *h)
{
    size_t hn;
    unsigned char *q = unhex(h, &hn);
    int same = q && hn == n && memcmp(p, q, n) == 0;
    free(q);
    return same;
}

static void load_kat(void)
{
    const char *src = getenv("RK_SRCDIR");
    char path[4096];
    json_error_t je;
    if (src) {
        snprintf(path, sizeof path, "%s/tests/data/httpcrypt-kat.json", src);
        kat = json_load_file(path, 0, &je);
    }
    if (!kat)
        kat = json_load_file(RK_KAT_FILE, 0, &je);
    if (!kat) {
        printf("Bail out! cannot read the KAT vectors: %s\n", je.text);
        exit(1);
    }
}

static void test_keys(void)
{
    unsigned char pk[32], sk[32], cpk[32], nm[32], nm2[32];
    rk_error err;
    char id[9], hdr[RK_HC_KEY_HEADER_SIZE];

    ok(rk_hc_parse_pubkey(kstr(kat, "server.public_key_b32"), pk, &err) == 0 &&
           same_hex(pk, 32, kstr(kat, "server.public_key_hex")),
       "server pubkey decodes from rspamd base32");
    unsigned char pk2[32];
    ok(rk_hc_parse_pubkey(kstr(kat, "server.public_key_hex"), pk2, &err) == 0 &&
           memcmp(pk, pk2, 32) == 0, "... and from hex");
    rk_hc_short_id(pk, id);
    is_str(id, kstr(kat, "server.short_id_b32"), "short id = base32(blake2b-512(pk)[0..5))");

    unsigned char *raw = unhex(kstr(kat, "client.secret_key_raw_hex"), NULL);
    memcpy(sk, raw, 32);
    free(raw);
    rk_hc_keypair(sk, cpk, 0);
    ok(same_hex(cpk, 32, kstr(kat, "client.public_key_hex")), "client pk from the raw secret key");
    unsigned char *cl = unhex(kstr(kat, "client.secret_key_clamped_hex"), NULL);
    unsigned char cpk2[32];
    rk_hc_keypair(cl, cpk2, 0);
    ok(memcmp(cpk, cpk2, 32) == 0, "... the same from the clamped one");
    free(cl);

    rk_hc_key_header(pk, cpk, hdr);
    is_str(hdr, kstr(kat, "key_header_value"), "Key header value");

    ok(rk_hc_shared(sk, pk, nm) == 0 && same_hex(nm, 32, kstr(kat, "nm_hchacha20_hex")),
       "nm = HChaCha20(X25519(client sk, server pk), 0)");
    unsigned char *ssk = unhex(kstr(kat, "server.secret_key_hex"), NULL);
    ok(rk_hc_shared(ssk, cpk, nm2) == 0 && memcmp(nm, nm2, 32) == 0,
       "nm is symmetric (server sk, client pk)");
    free(ssk);

    /* the Rust client's unit test: sk = 0^32 */
    unsigned char zero[32] = {0}, rpk[32], rnm[32];
    ok(rk_hc_parse_pubkey(kstr(kat, "rust_crosscheck.pk_b32"), rpk, &err) == 0 &&
           rk_hc_shared(zero, rpk, rnm) == 0 && same_hex(rnm, 32, kstr(kat, "rust_crosscheck.nm_hex")),
       "rspamdclient-rs cross-check nm");

    /* degenerate peer key: all-zero point */
    ok(rk_hc_shared(sk, zero, nm2) == -1, "an all-zero server key is refused");
}

/* rk_keypair_generate: the fields of Rspamd's keypair section, consistent. */
static void test_keypair(void)
{
    rk_keypair kp, kp2;
    rk_error err;
    unsigned char pk[RK_BASE32_DECODED_MAX(52)], sk[RK_BASE32_DECODED_MAX(52)], pk2[32];
    unsigned char hash[64];
    char id[RK_KEYPAIR_ID_CHARS + 1], sid[9];
    size_t npk = 0, nsk = 0;

    rk_error_clear(&err);
    ok(rk_keypair_generate(&kp, &err) == 0 && rk_keypair_generate(&kp2, &err) == 0,
       "keypair generated");
    ok(strlen(kp.pubkey) == 52 && strlen(kp.privkey) == 52 && strlen(kp.id) == 103,
       "pubkey and privkey are 52 characters, id 103");
    ok(rk_base32_decode(kp.pubkey, 52, pk, sizeof pk, RK_BASE32_EXACT, &npk) == 0 && npk == 32 &&
           rk_base32_decode(kp.privkey, 52, sk, sizeof sk, RK_BASE32_EXACT, &nsk) == 0 &&
           nsk == 32,
       "both keys decode to 32 bytes");
    ok((sk[0] & 7) == 0 && (sk[31] & 0xc0) == 0x40, "the private key is clamped");
    crypto_scalarmult_curve25519_base(pk2, sk);
    ok(memcmp(pk, pk2, 32) == 0, "pubkey = X25519(privkey, base point)");
    crypto_generichash_blake2b(hash, sizeof hash, pk, 32, NULL, 0);
    rk_base32_encode(hash, sizeof hash, id);
    is_str(kp.id, id, "id = base32(blake2b-512(pubkey))");
    rk_hc_short_id(pk, sid);
    ok(strncmp(kp.id, sid, 8) == 0, "the Key header's short id starts the id");
    unsigned char parsed[32];
    ok(rk_hc_parse_pubkey(kp.pubkey, parsed, &err) == 0 && memcmp(parsed, pk, 32) == 0,
       "--key takes the pubkey");
    ok(strcmp(kp.pubkey, kp2.pubkey) != 0 && strcmp(kp.privkey, kp2.privkey) != 0,
       "a fresh key each time");
    rk_secret_wipe(&kp, sizeof kp);
    rk_secret_wipe(&kp2, sizeof kp2);
}

/* The vectors' client secret key and its shared key with the server. */
static void kat_keys(unsigned char sk[32], unsigned char nm[32])
{
    unsigned char pk[32];
    rk_error err;
    rk_hc_parse_pubkey(kstr(kat, "server.public_key_b32"), pk, &err);
    unsigned char *raw = unhex(kstr(kat, "client.secret_key_raw_hex"), NULL);
    memcpy(sk, raw, 32);
    free(raw);
    rk_hc_shared(sk, pk, nm);
}

static void test_requests(void)
{
    unsigned char sk[32], cpk[32], nm[32];
    kat_keys(sk, nm);
    rk_hc_keypair(sk, cpk, 0);

    json_t *reqs = json_object_get(kat, "requests");
    size_t i;
    json_t *r;
    json_array_foreach(reqs, i, r) {
        const char *name = kstr(r, "name");
        size_t plen, nlen;
        unsigned char *plain = unhex(kstr(r, "plaintext_hex"), &plen);
        unsigned char *nonce = unhex(kstr(r, "nonce_hex"), &nlen);
        ok(plen == strlen(kstr(r, "plaintext")) && memcmp(plain, kstr(r, "plaintext"), plen) == 0,
           "%s: vector is self-consistent", name);
        unsigned char *wire = malloc(plen + RK_HC_OVERHEAD);
        rk_hc_seal(nm, nonce, plain, plen, wire);
        ok(same_hex(wire + RK_HC_OVERHEAD, plen, kstr(r, "ciphertext_hex")),
           "%s: ciphertext (keystream from block 1)", name);
        ok(same_hex(wire + RK_HC_NONCELEN, RK_HC_MACLEN, kstr(r, "mac_hex")),
           "%s: Poly1305 tag keyed with block 0", name);
        ok(same_hex(wire, plen + RK_HC_OVERHEAD, kstr(r, "wire_body_hex")),
           "%s: wire body = nonce || tag || ciphertext", name);
        unsigned char *inplace = malloc(plen + RK_HC_OVERHEAD);
        memcpy(inplace + RK_HC_OVERHEAD, plain, plen);
        rk_hc_seal(nm, nonce, inplace + RK_HC_OVERHEAD, plen, inplace);
        ok(memcmp(inplace, wire, plen + RK_HC_OVERHEAD) == 0, "%s: sealing in place gives the same bytes",
           name);
        free(inplace);
        /* what the server does with it */
        unsigned char *back = malloc(plen + 1);
        ok(rk_hc_open(nm, wire, plen + RK_HC_OVERHEAD, back) == 0 && memcmp(back, plain, plen) == 0,
           "%s: opens again", name);
        free(back);
        free(wire);
        free(plain);
        free(nonce);
    }
}

/* The streamed envelope is byte for byte the sealed one, whatever the split
 * of the plaintext and the pieces it is read in. */
static void test_stream(void)
{
    unsigned char sk[32], nm[32];
    kat_keys(sk, nm);
    json_t *reqs = json_object_get(kat, "requests");
    size_t i;
    json_t *r;
    json_array_foreach(reqs, i, r) {
        size_t plen;
        unsigned char *plain = unhex(kstr(r, "plaintext_hex"), &plen);
        unsigned char *nonce = unhex(kstr(r, "nonce_hex"), NULL);
        size_t splits[] = {0, 1, 23, plen / 2, plen};
        int all = 1;
        for (size_t k = 0; k < sizeof splits / sizeof *splits; k++) {
            rk_hc_stream st;
            size_t at = splits[k] <= plen ? splits[k] : plen;
            rk_hc_stream_init(&st, nm, nonce, plain, at, plain + at, plen - at);
            unsigned char *ct = malloc(plen + 64);
            for (size_t off = 0; off < plen; off += 64)
                rk_hc_stream_read(&st, off, ct + off, plen - off < 64 ? plen - off : 64);
            if (!same_hex(st.env, RK_HC_NONCELEN, kstr(r, "nonce_hex")) ||
                !same_hex(st.env + RK_HC_NONCELEN, RK_HC_MACLEN, kstr(r, "mac_hex")) ||
                !same_hex(ct, plen, kstr(r, "ciphertext_hex")))
                all = 0;
            free(ct);
            rk_hc_stream_wipe(&st);
        }
        ok(all, "%s: the streamed envelope equals the vector for every split", kstr(r, "name"));
        free(plain);
        free(nonce);
    }
    /* 1 MB in two parts, read in 64 kB pieces, against rk_hc_seal */
    size_t n = 1 << 20, head = 777;
    unsigned char *msg = malloc(n), *wire = malloc(n + RK_HC_OVERHEAD), *ct = malloc(n);
    randombytes_buf(msg, n);
    rk_hc_stream st;
    rk_hc_stream_init(&st, nm, NULL, msg, head, msg + head, n - head);
    for (size_t off = 0; off < n; off += 65536)
        rk_hc_stream_read(&st, off, ct + off, n - off < 65536 ? n - off : 65536);
    rk_hc_seal(nm, st.env, msg, n, wire);
    ok(memcmp(wire, st.env, RK_HC_OVERHEAD) == 0 && memcmp(wire + RK_HC_OVERHEAD, ct, n) == 0,
       "a streamed 1 MB envelope equals the sealed one");
    memcpy(wire + RK_HC_OVERHEAD, ct, n);
    unsigned char *back = malloc(n);
    ok(rk_hc_open(nm, wire, n + RK_HC_OVERHEAD, back) == 0 && memcmp(back, msg, n) == 0,
       "... and opens to the message");
    free(back);
    free(msg);
    free(wire);
    free(ct);
}

static void test_replies(void)
{
    unsigned char sk[32], nm[32];
    kat_keys(sk, nm);
    rk_error err;

    json_t *reps = json_object_get(kat, "replies");
    size_t i;
    json_t *r;
    json_array_foreach(reps, i, r) {
        const char *name = kstr(r, "for_request");
        const char *want = kstr(r, "plaintext");
        size_t wlen;
        unsigned char *wire = unhex(kstr(r, "wire_body_hex"), &wlen);
        unsigned char *out = malloc(wlen);
        ok(wlen == strlen(want) + RK_HC_OVERHEAD && rk_hc_open(nm, wire, wlen, out) == 0 &&
               memcmp(out, want, strlen(want)) == 0,
           "reply to %s: authenticates and decrypts", name);
        rk_response resp;
        memset(&resp, 0, sizeof resp);
        ok(rk_http_parse_response(out, wlen - RK_HC_OVERHEAD, &resp, &err) == 0 &&
               resp.status == 200 && resp.body_len > 0,
           "reply to %s: inner reply is HTTP/1.1 200 with a body", name);
        if (strcmp(name, "ping") == 0)
            ok(resp.body_len == 6 && memcmp(resp.body, "pong\r\n", 6) == 0, "ping: inner body pong");
        rk_response_clear(&resp);
        /* flip one bit in each part: nonce, tag, ciphertext (first and last) */
        size_t spots[] = {0, RK_HC_NONCELEN + 3, RK_HC_OVERHEAD, wlen - 1};
        int all_refused = 1;
        for (size_t k = 0; k < sizeof spots / sizeof *spots; k++) {
            wire[spots[k]] ^= 0x10;
            memset(out, 0xAA, wlen - RK_HC_OVERHEAD);
            if (rk_hc_open(nm, wire, wlen, out) == 0)
                all_refused = 0;
            wire[spots[k]] ^= 0x10;
        }
        ok(all_refused, "reply to %s: any flipped bit (nonce, tag, first/last byte) is refused", name);
        ok(rk_hc_open(nm, wire, wlen - 1, out) != 0, "reply to %s: a truncated reply is refused", name);
        unsigned char wrong[32];
        memcpy(wrong, nm, 32);
        wrong[0] ^= 1;
        ok(rk_hc_open(wrong, wire, wlen, out) != 0, "reply to %s: the wrong shared key is refused",
           name);
        free(out);
        free(wire);
    }
    unsigned char tiny[39] = {0}, out[1];
    ok(rk_hc_open(nm, tiny, sizeof tiny, out) != 0, "a body shorter than 40 bytes is refused");
    unsigned char empty_wire[RK_HC_OVERHEAD];
    rk_hc_seal(nm, NULL, (const unsigned char *)"", 0, empty_wire);
    ok(rk_hc_open(nm, empty_wire, sizeof empty_wire, out) == 0, "an empty message seals and opens");
    unsigned char a[RK_HC_OVERHEAD + 5], b[RK_HC_OVERHEAD + 5];
    rk_hc_seal(nm, NULL, (const unsigned char *)"hello", 5, a);
    rk_hc_seal(nm, NULL, (const unsigned char *)"hello", 5, b);
    ok(memcmp(a, b, RK_HC_NONCELEN) != 0 && memcmp(a + RK_HC_OVERHEAD, b + RK_HC_OVERHEAD, 5) != 0,
       "every message gets a fresh random nonce");
}

static void test_pubkey_errors(void)
{
    unsigned char pk[32];
    rk_error err;
    rk_error_clear(&err);
    ok(rk_hc_parse_pubkey("", pk, &err) == -1 && err.code == RK_ERR_USAGE, "empty key refused");
    ok(rk_hc_parse_pubkey("a9dcsjz377rpt4zk5u1uq76a13tbafmzobfgshqxikts3x94m89", pk, &err) == -1 &&
           strstr(err.msg, "52-character"), "51 characters refused, the message says what is expected");
    ok(rk_hc_parse_pubkey("A9DCSJZ377RPT4ZK5U1UQ76A13TBAFMZOBFGSHQXIKTS3X94M89Y", pk, &err) == -1,
       "upper case is not rspamd's base32");
    ok(rk_hc_parse_pubkey("a9dcsjz377rpt4zk5u1uq76a13tbafmzobfgshqxikts3x94m8 y", pk, &err) == -1,
       "a space inside is refused");
    const char *id = "1escm5obkfq4pa5o481yyi1sppew5mx9zqczi7z39yaxqomrmkhchfybqs7kftoaroyexk3zns4ofequu17j4ndmtf18zi4otb1ki3n";
    ok(rk_hc_parse_pubkey(id, pk, &err) == -1 && strstr(err.msg, "id"),
       "the 103-character key id is recognised as such");
    ok(rk_hc_parse_pubkey("zz0f66d3cdbd9316f5557bcae9bac732c780cbba301463b97b55459bdfd7eb7c", pk, &err) == -1,
       "64 characters that are not hex are refused");
}

static void test_zstd(void)
{
    if (!rk_zstd_available()) {
        ok(1, "# skip built without libzstd");
        return;
    }
    rk_error err;
    rk_buf z = {0}, back = {0};
    size_t n = 300000;
    unsigned char *msg = malloc(n);
    for (size_t i = 0; i < n; i++)
        msg[i] = (unsigned char)("From: a@b\r\nSubject: x\r\n\r\nbody\0"[i % 31] ^ (i / 7919));
    ok(rk_zstd_compress(msg, n, &z, &err) == 0 && z.len > 4 && z.len < n &&
           memcmp(z.p, "\x28\xb5\x2f\xfd", 4) == 0, "compress: one zstd frame, smaller");
    ok(rk_zstd_decompress(z.p, z.len, &back, 1 << 30, &err) == 0 && back.len == n &&
           memcmp(back.p, msg, n) == 0, "round trip of 300 kB with NUL bytes");
    ok(rk_zstd_decompress(z.p, z.len, &back, 1000, &err) == -1 && err.code == RK_ERR_PROTOCOL,
       "a reply over the size limit is refused");
    ok(rk_zstd_decompress(z.p, z.len / 2, &back, 1 << 30, &err) == -1, "a truncated frame is refused");
    ok(rk_zstd_decompress((const unsigned char *)"not zstd at all", 15, &back, 1 << 30, &err) == -1 &&
           err.code == RK_ERR_PROTOCOL, "garbage is refused");
    ok(rk_zstd_compress((const unsigned char *)"", 0, &z, &err) == 0 &&
           rk_zstd_decompress(z.p, z.len, &back, 100, &err) == 0 && back.len == 0,
       "an empty body round-trips");
    rk_buf_free(&z);
    rk_buf_free(&back);
    free(msg);
}

static void test_hoststate(void)
{
    char dir[] = "/tmp/rk-hoststate.XXXXXX";
    if (!mkdtemp(dir)) {
        ok(0, "mkdtemp");
        return;
    }
    char path[200];
    snprintf(path, sizeof path, "%s/sub/dead-hosts", dir);
    const char *keys[] = {"127.0.0.1:1", "/run/x.sock", "https://h:443"};
    double until[3];
    rk_hoststate_load(path, keys, 3, until);
    ok(until[0] == 0 && until[1] == 0 && until[2] == 0, "no state file: nothing is dead");
    double now = (double)time(NULL);
    rk_hoststate_set(path, keys[1], now + 100);
    rk_hoststate_set(path, keys[0], now + 50);
    rk_hoststate_set(path, "10.0.0.1:1", now - 5); /* already expired: not written */
    rk_hoststate_load(path, keys, 3, until);
    ok(until[0] > now + 49 && until[1] > now + 99 && until[2] == 0, "two servers recorded as dead");
    rk_hoststate_set(path, keys[1], 0);
    rk_hoststate_load(path, keys, 3, until);
    ok(until[0] > now && until[1] == 0, "a server that answered again is forgotten");
    struct stat st;
    ok(stat(path, &st) == 0 && (st.st_mode & 077) == 0, "the state file is private (0600)");
    FILE *f = fopen(path, "a");
    fputs("garbage line\n12x34 host\n", f);
    fclose(f);
    rk_hoststate_load(path, keys, 3, until);
    ok(until[0] > now, "garbage lines are ignored");
    char *def = rk_hoststate_default_path();
    ok(def && strstr(def, "dead-hosts"), "a default path exists: %s", def ? def : "(none)");
    free(def);
    unlink(path);
    snprintf(path, sizeof path, "%s/sub", dir);
    rmdir(path);
    rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0 || rk_hc_init(NULL)) /* the library's own dlopen()ed copy too */
        return 2;
    load_kat();
    test_keys();
    test_requests();
    test_stream();
    test_replies();
    test_pubkey_errors();
    test_keypair();
    test_zstd();
    test_hoststate();
    json_decref(kat);
    return tap_done();
}
