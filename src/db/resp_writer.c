/* Encoding commands: every command goes to the server as a RESP array of bulk strings
 * ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), binary-safe, whatever the protocol version. */
#include <string.h>

#include "resp.h"

static size_t digits(size_t v)
{
    size_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static char *put_header(char *p, char type, size_t v)
{
    *p++ = type;
    size_t n = digits(v);
    for (size_t i = n; i > 0; i--) {
        p[i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
    p += n;
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

static size_t arg_len(const char *const *argv, const size_t *argvlen, int i)
{
    return argvlen ? argvlen[i] : strlen(argv[i]);
}

static size_t encoded_size(int argc, const char *const *argv, const size_t *argvlen)
{
    size_t total = 1 + digits((size_t)argc) + 2;
    for (int i = 0; i < argc; i++) {
        size_t n = arg_len(argv, argvlen, i);
        total += 1 + digits(n) + 2 + n + 2;
    }
    return total;
}

static void encode(char *p, int argc, const char *const *argv, const size_t *argvlen)
{
    p = put_header(p, '*', (size_t)argc);
    for (int i = 0; i < argc; i++) {
        size_t n = arg_len(argv, argvlen, i);
        p = put_header(p, '$', n);
        if (n)
            memcpy(p, argv[i], n);
        p += n;
        *p++ = '\r';
        *p++ = '\n';
    }
}

size_t acio_resp_encode_command(char *buf, size_t cap, int argc, const char *const *argv,
                                const size_t *argvlen)
{
    if (argc < 0 || (argc > 0 && !argv))
        return 0;
    size_t need = encoded_size(argc, argv, argvlen);
    if (buf && need <= cap)
        encode(buf, argc, argv, argvlen);
    return need;
}

int acio__bytes_reserve(acio__bytes_t *b, size_t more)
{
    if (b->cap - b->len >= more)
        return 0;
    size_t ncap = b->cap ? b->cap : 4096;
    while (ncap - b->len < more) {
        if (ncap > SIZE_MAX / 2)
            return -ENOMEM;
        ncap *= 2;
    }
    char *nd = acio__realloc(b->data, ncap);
    if (!nd)
        return -ENOMEM;
    b->data = nd;
    b->cap = ncap;
    return 0;
}

void acio__bytes_close(acio__bytes_t *b)
{
    acio__free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int acio__resp_append_command(acio__bytes_t *b, int argc, const char *const *argv,
                              const size_t *argvlen)
{
    size_t need = encoded_size(argc, argv, argvlen);
    int rc = acio__bytes_reserve(b, need);
    if (rc < 0)
        return rc;
    encode(b->data + b->len, argc, argv, argvlen);
    b->len += need;
    return 0;
}
