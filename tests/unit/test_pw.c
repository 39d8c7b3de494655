/*
 * Known-answer and edge-case tests of Rspamd's base32 and password hashes
 * (spec/pw.md A.3 - A.5).  Prints TAP.
 *
 * Linked with the internal library, so that rk_catena() can be checked with
 * the non-rspamd parameters of the reference vector.
 */
#include "config.h"
#include "internal.h"
#include "core/base32.h"
#include "transport/sodium_dl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

static void hex(const unsigned char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

static void unhex(const char *s, unsigned char *out, size_t *n)
{
    for (*n = 0; s[2 * *n]; (*n)++)
        sscanf(s + 2 * *n, "%2hhx", &out[*n]);
}

/* A password of `n` copies of `pat` (cycled). */
static char *repeat(const char *pat, size_t n)
{
    char *s = malloc(n + 1);
    size_t pl = strlen(pat);
    for (size_t i = 0; i < n; i++)
        s[i] = pat[i % pl];
    s[n] = 0;
    return s;
}

static void test_base32(void)
{
    static const struct { const char *hex, *b32; } kat[] = {
        { "", "" },
        { "00", "yy" },
        { "ff", "98" },
        { "0102030405", "boygynwy" },
        { "68656c6c6f", "em3ags7p" },
        { "30313233343536373839616263646566", "ojcru3ogitpqdhr8buagg1icgd" },
        { "000102030405060708090a0b0c0d0e0f10111213", "yeyroboyfobqyrrbkanaogabxyrnbjcn" },
    };
    unsigned char in[64], out[64];
    char enc[128];
    size_t n, got;

    for (size_t k = 0; k < sizeof kat / sizeof kat[0]; k++) {
        unhex(kat[k].hex, in, &n);
        size_t len = rk_base32_encode(in, n, enc);
        ok(len == strlen(kat[k].b32) && strcmp(enc, kat[k].b32) == 0,
           "base32 encode %s -> %s (got %s)", kat[k].hex, kat[k].b32, enc);
        ok(rk_base32_decode(enc, len, out, sizeof out, RK_BASE32_EXACT, &got) == 0 &&
           got == n && memcmp(out, in, n) == 0, "base32 exact decode %s", kat[k].b32);
    }

    /* Round trips of every length in exact mode; encoded length is ceil(8n/5). */
    int all = 1;
    for (size_t len = 0; len <= 40; len++) {
        randombytes_buf(in, len);
        size_t e = rk_base32_encode(in, len, enc);
        all &= e == RK_BASE32_ENCODED_LEN(len) && e == (8 * len + 4) / 5;
        all &= rk_base32_decode(enc, e, out, RK_BASE32_DECODED_MAX(e), RK_BASE32_EXACT, &got) == 0;
        all &= got == len && memcmp(in, out, len) == 0;
    }
    ok(all, "base32 exact round trip, 0..40 bytes");

    /* rspamd's lazy decoder: 32 -> 20, 52 -> 32, and 51 -> 32 (top bits lost). */
    randombytes_buf(in, 32);
    n = rk_base32_encode(in, 32, enc);
    ok(rk_base32_decode(enc, 52, out, sizeof out, RK_BASE32_RSPAMD, &got) == 0 && got == 32 &&
       memcmp(in, out, 32) == 0, "rspamd decode: 52 chars -> 32 bytes");
    ok(rk_base32_decode(enc, 51, out, sizeof out, RK_BASE32_RSPAMD, &got) == 0 && got == 32 &&
       memcmp(in, out, 31) == 0 && (out[31] & 0x7f) == (in[31] & 0x7f),
       "rspamd decode: 51 chars -> 32 bytes, last one missing its top bit");
    ok(rk_base32_decode(enc, 51, out, sizeof out, RK_BASE32_EXACT, &got) == 0 && got == 31,
       "exact decode: 51 chars -> 31 bytes");
    ok(rk_base32_decode(enc, 33, out, sizeof out, RK_BASE32_RSPAMD, &got) == 0 && got == 21,
       "rspamd decode: 33 chars -> 21 bytes");
    ok(rk_base32_decode(enc, 31, out, sizeof out, RK_BASE32_RSPAMD, &got) == 0 && got == 19,
       "rspamd decode: 31 chars -> 19 bytes");
    ok(rk_base32_decode("yy", 2, out, sizeof out, RK_BASE32_RSPAMD, &got) == 0 && got == 1 &&
       out[0] == 0, "rspamd decode: yy -> 00");
    ok(rk_base32_decode("y", 1, out, sizeof out, RK_BASE32_RSPAMD, &got) == 0 && got == 1,
       "rspamd decode: one character -> one byte");
    ok(rk_base32_decode("y", 1, out, sizeof out, RK_BASE32_EXACT, &got) == 0 && got == 0,
       "exact decode: one character -> no byte");
    ok(rk_base32_decode("Yy", 2, out, sizeof out, RK_BASE32_RSPAMD, &got) == -1,
       "upper case is rejected");
    ok(rk_base32_decode("y0", 2, out, sizeof out, RK_BASE32_EXACT, &got) == -1 &&
       rk_base32_decode("y=", 2, out, sizeof out, RK_BASE32_EXACT, &got) == -1 &&
       rk_base32_decode("y y", 3, out, sizeof out, RK_BASE32_EXACT, &got) == -1,
       "characters outside the alphabet are rejected");
    ok(rk_base32_decode(enc, 52, out, 31, RK_BASE32_EXACT, &got) == -1 &&
       rk_base32_decode(enc, 52, out, 31, RK_BASE32_RSPAMD, &got) == -1,
       "decode refuses to overflow its output");
}

static const unsigned char salt0[20] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                         14, 15, 16, 17, 18, 19 };

static void test_kdf(void)
{
    unsigned char out[64], key[32];
    char h[200];

    ok(rk_catena((const unsigned char *)"password", 8, (const unsigned char *)"salt", 4,
                 (const unsigned char *)"data", 4, 4, 10, 10, 64, out) == 0, "catena runs");
    hex(out, 64, h);
    ok(strcmp(h, "79d216dfd9e3ca6d8140b9779e31f6604e0dd579e44eedad985aefe9b24760cd"
                 "1ee44903f2957e2b6ddd3b95d226655c860dca17d8d4f7c861b955e8a1eddfe9") == 0,
       "catena(password, salt, data, 4, 10, 10, 64) known answer");

    rk_pw_derive(RK_PW_CATENA, "secret", 6, salt0, key, NULL);
    hex(key, 32, h);
    ok(strcmp(h, "31a3219c6e68c8600caf238943866cd5d061d39ee1483f9c0d4a8e33554e519f") == 0,
       "catena(secret, 00..13, rspamd, 4, 10, 10, 32) known answer");

    ok(rk_pw_hash(RK_PW_PBKDF2, "secret", 6, salt0, h, NULL) == 0 &&
       strcmp(h, "$1$yeyroboyfobqyrrbkanaogabxyrnbjcn$1mpt11p6qbhbczuesc8ehp3s9ec9djn8y6a5t3skmgit99fpz68y") == 0,
       "$1$ hash of secret, salt 00..13");
    ok(rk_pw_hash(RK_PW_CATENA, "secret", 6, salt0, h, NULL) == 0 &&
       strcmp(h, "$2$yeyroboyfobqyrrbkanaogabxyrnbjcn$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48b") == 0,
       "$2$ hash of secret, salt 00..13");
}

/* Hashes made by rspamadm pw (3.4) with -p. */
static void test_rspamadm_hashes(void)
{
    static const struct { const char *pat; size_t len; const char *hash; } kat[] = {
        { "secret", 6, "$1$d5xwsny3kthscnnxg5jqoouuf1roy9r1$c7k6qanokxpwo6nkp7e94o53sio83rgswmi9whhia8gqd1yc3m5y" },
        { "secret", 6, "$2$ohakc65k1qmg6wrrmw41uk1nci77kky5$noce97h4sxprmh15nd4k97gwjqoap4zk6mfqp4csw4k6zze1ofyy" },
        { "y", 65, "$1$yguwrezqjquso434buqhd6mttpj3ef8i$eikcgu3kugwor77typ1ct838rifwe3o6upszswrgbcqrmk9uwnny" },
        { "y", 65, "$2$pz91bofosh71cu66mic4nosafoo4wgnq$5zy75uoyc5ept4q5yyuiqhmo33knppgxneb439sibwrescte9ptb" },
        { "x", 100, "$1$qikxdkc5kccz1qqk1kkwifr86ww69sx5$cof6senxzz1g463ijzrtwkpkmko64nex8ncoy46mi6rw1juq3zrb" },
        { "x", 100, "$2$fpykq7cyy5zuxhirxex3gexadqhss9au$f665ywzwhpz3dziwnyzjm4cwcxf3kksy9dk37ix9t3rwi5fw1j3y" },
        { "z", 256, "$1$bdnimqms7kys8ffodeef51u563uc86j7$xjmpurhyx6y8d3847wxo1n6iwe9555pniqti3tmhp88w5z7wsfab" },
        { "z", 256, "$2$uycu6qw9g957fycowxg4wkfaju9wxk5r$6ead8ygbedmjg3hm5mfyxe3nxnaejsrgeji9abtdm89wu55ikcoy" },
        { "ab", 300, "$1$98pfzgh7kzru3xk3qeh44xedmanbuof6$wnj8w96ymrsj4rdezcaqtbm8g858sj7muio3qsxarcehux1r93xy" },
        { "ab", 300, "$2$ewa58enjt5zdup7r7bdnpicj6eker683$3wioqs3gh7s47oquq9to3dc1643iz878tew4pxj31439qbnddwny" },
    };
    for (size_t k = 0; k < sizeof kat / sizeof kat[0]; k++) {
        char *pw = repeat(kat[k].pat, kat[k].len);
        int type = kat[k].hash[1] - '0';
        ok(rk_pw_verify(kat[k].hash, pw, kat[k].len, NULL) == 1,
           "rspamadm $%d$ hash of a %zu-byte password verifies", type, kat[k].len);
        /* A 256-byte password counts for nothing in catena (see below). */
        int blind = type == RK_PW_CATENA && kat[k].len % 256 == 0;
        pw[0] ^= 1;
        ok(rk_pw_verify(kat[k].hash, pw, kat[k].len, NULL) == blind,
           "... and with its first byte changed it %s", blind ? "still does" : "does not");
        free(pw);
    }

    /* The quirks behind those answers. */
    char *p300 = repeat("ab", 300);
    ok(rk_pw_verify(kat[9].hash, p300, 44, NULL) == 1,
       "catena: a 300-byte password is equivalent to its first 44 bytes");
    ok(rk_pw_verify(kat[8].hash, p300, 44, NULL) == 0,
       "pbkdf2: a 300-byte password is not its first 44 bytes");
    unsigned char pre[64];
    crypto_generichash(pre, 64, (const unsigned char *)p300, 300, NULL, 0);
    ok(rk_pw_verify(kat[8].hash, pre, 64, NULL) == 1,
       "pbkdf2: a password over 64 bytes is replaced by its BLAKE2b-512");
    ok(rk_pw_verify(kat[7].hash, "", 0, NULL) == 1,
       "catena: a 256-byte password hashes like the empty one");
    free(p300);
}

static void test_parse(void)
{
    const char *good = "$2$yeyroboyfobqyrrbkanaogabxyrnbjcn$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48b";
    char h[200];
    rk_error err;
    rk_pw_type t;

    /* Accepted by rspamd, so accepted here. */
    snprintf(h, sizeof h, "%s$junk", good);
    ok(rk_pw_verify(h, "secret", 6, NULL) == 1, "anything after the key is ignored");
    snprintf(h, sizeof h, "%s", good);
    h[2] = 'x';
    ok(rk_pw_verify(h, "secret", 6, NULL) == 1, "the character after the id is not checked");
    snprintf(h, sizeof h, "%s", good);
    h[35] = '-';
    ok(rk_pw_verify(h, "secret", 6, NULL) == 1, "nor is the separator before the key");
    snprintf(h, sizeof h, "%s", good);
    h[87] = 0;
    ok(rk_pw_hash_type(h, &t, NULL) == 0 && rk_pw_verify(h, "secret", 6, NULL) == 0,
       "a key cut to 51 characters parses (rspamd's decoder) but never matches");
    ok(rk_pw_hash_type(good, &t, NULL) == 0 && t == RK_PW_CATENA, "hash type of $2$ is catena");

    static const struct { const char *hash, *msg; } bad[] = {
        { "", "must start with $1$ or $2$" },
        { "secret", "must start with $1$ or $2$" },
        { "$", "must start with $1$ or $2$" },
        { "$x$yeyroboyfobqyrrbkanaogabxyrnbjcn$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48b", "must start with" },
        { "$3$yeyroboyfobqyrrbkanaogabxyrnbjcn$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48b", "must start with" },
        { "$0$yeyroboyfobqyrrbkanaogabxyrnbjcn$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48b", "must start with" },
        { "$12$yeyroboyfobqyrrbkanaogabxyrnbjcn$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48b", "must start with" },
        { "$99999999999999999999999$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48b", "must start with" },
        { "$2$yeyroboyfobqyrrbkanaogabxyrnbjcn", "too short" },
        /* rspamadm 3.4 segfaults on this one */
        { "$01$yeyroboyfobqyrrbkanaogabxyrnbjcn$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48b", "salt decodes to 0 bytes" },
        { "$2$yeyroboyfobqyrrbkanaogabxyrnbjc$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48b", "salt decodes to 19 bytes" },
        { "$2$yeyroboyfobqyrrbkanaogabxyrnbjcnn$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48b", "salt decodes to 21 bytes" },
        { "$2$YEYROBOYFOBQYRRBKANAOGABXYRNBJCN$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48b", "salt is not valid base32" },
        { "$2$yeyroboyfobqyrrbkanaogabxyrnbjc0$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48b", "salt is not valid base32" },
        { "$2$yeyroboyfobqyrrbkanaogabxyrnbjcn$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt4", "key decodes to 31 bytes" },
        { "$2$yeyroboyfobqyrrbkanaogabxyrnbjcn$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48bb", "key decodes to 33 bytes" },
        { "$2$yeyroboyfobqyrrbkanaogabxyrnbjcn$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48B", "key is not valid base32" },
        { "$2$yeyroboyfobqyrrbkanaogabxyrnbjcn$$t3ednq4ped1bgghidjn8rd1pigwdsj5ub816dqsbk1d8uk3jt48b", "key decodes to 0 bytes" },
        { "$2$yeyroboyfobqyrrbkanaogabxyrnbjcn_______________________________________________________", "key decodes to 0 bytes" },
        { "$2$yeyroboyfobqyrrbkanaogabxyrnbjcnyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy", "salt is too long" },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        rk_error_clear(&err);
        int r = rk_pw_verify(bad[k].hash, "secret", 6, &err);
        ok(r == -1 && err.code == RK_ERR_USAGE && strstr(err.msg, bad[k].msg),
           "malformed hash %zu refused: %s", k, err.msg);
    }
}

static void test_api(void)
{
    char a[RK_PW_HASH_LEN + 1], b[RK_PW_HASH_LEN + 1];
    rk_pw_type t;

    ok(rk_pw_hash(RK_PW_DEFAULT_TYPE, "pw", 2, NULL, a, NULL) == 0 &&
       rk_pw_hash(RK_PW_DEFAULT_TYPE, "pw", 2, NULL, b, NULL) == 0 &&
       strlen(a) == RK_PW_HASH_LEN && strncmp(a, "$2$", 3) == 0 && strcmp(a, b) != 0,
       "random salts: two hashes of one password differ");
    ok(rk_pw_verify(a, "pw", 2, NULL) == 1 && rk_pw_verify(b, "pw", 2, NULL) == 1,
       "both verify");
    ok(rk_pw_hash(RK_PW_PBKDF2, "pw", 2, NULL, a, NULL) == 0 && strlen(a) == 88 &&
       strncmp(a, "$1$", 3) == 0 && rk_pw_verify(a, "pw", 2, NULL) == 1, "pbkdf2 round trip");
    ok(rk_pw_verify(a, "pw\0", 3, NULL) == 0, "a trailing NUL byte counts");

    rk_error err;
    ok(rk_pw_hash((rk_pw_type)7, "pw", 2, NULL, a, &err) == -1 && err.code == RK_ERR_USAGE,
       "unknown type refused");
    ok(rk_pw_type_parse("catena", &t) == 0 && t == RK_PW_CATENA &&
       rk_pw_type_parse("pbkdf2", &t) == 0 && t == RK_PW_PBKDF2,
       "type names parse");
    ok(rk_pw_type_parse("Catena", &t) == -1 && rk_pw_type_parse("", &t) == -1,
       "type names are case-sensitive");
    ok(strcmp(rk_pw_type_name(RK_PW_PBKDF2), "pbkdf2") == 0 &&
       rk_pw_type_name((rk_pw_type)0) == NULL && rk_pw_type_description((rk_pw_type)3) == NULL &&
       strncmp(rk_pw_type_description(RK_PW_CATENA), "Catena-Butterfly - ", 19) == 0,
       "names and descriptions");
    unsigned char s[4] = { 1, 2, 3, 4 };
    rk_secret_wipe(s, sizeof s);
    rk_secret_wipe(NULL, 4);
    ok(s[0] == 0 && s[3] == 0, "rk_secret_wipe zeroes");
}

int main(void)
{
    if (rk_sodium_load(NULL)) {
        printf("Bail out! libsodium cannot be loaded\n");
        return 1;
    }
    test_base32();
    test_kdf();
    test_rspamadm_hashes();
    test_parse();
    test_api();
    return tap_done();
}
