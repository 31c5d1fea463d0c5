/* HTTP/1.1 request-head parsing speed: acio's parser against Debian's libhttp-parser
 * (nodejs/http-parser 2.9, the parser Node.js used before llhttp). picohttpparser, the
 * model, is not packaged in Debian. Both parse the same four requests (a browser's GET
 * with a dozen fields, curl's GET, a form POST with Content-Length, a chunked upload's
 * head) N times in rotation and hand back the same things: method, target, version and
 * every field's name and value as pointers into the buffer, plus the framing.
 *
 *     bench_http_parse acio|http-parser N
 *
 * prints the bench_util.h line: cpu_ns_per_op=... (per request) and wall_ns_per_op=... */
#include <acio.h>
#include <http_parser.h>

#include "bench_util.h"

static const char *requests[] = {
    "GET /wiki/Hypertext_Transfer_Protocol HTTP/1.1\r\n"
    "Host: en.wikipedia.org\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Referer: https://en.wikipedia.org/wiki/Main_Page\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: WMF-Last-Access=07-Dec-2026; GeoIP=DE:BE:Berlin:52.52:13.40:v4; enwikimwuser-sessionId=0123456789abcdef\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "If-Modified-Since: Sun, 06 Dec 2026 10:00:00 GMT\r\n"
    "\r\n",
    "GET / HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n",
    "POST /login HTTP/1.1\r\n"
    "Host: example.com\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\n"
    "Content-Length: 27\r\n"
    "Origin: https://example.com\r\n"
    "\r\n",
    "PUT /upload/file.bin HTTP/1.1\r\n"
    "Host: storage.example.com\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Expect: 100-continue\r\n"
    "\r\n",
};
#define NREQ (sizeof requests / sizeof requests[0])

/* Work the optimiser cannot drop. */
static volatile size_t sink;

static void run_acio(long n, const char **msgs, const size_t *lens)
{
    acio_http_header_t fields[64];
    acio_http_head_t head;
    for (long i = 0; i < n; i++) {
        size_t k = (size_t)i % NREQ;
        ssize_t r = acio_http_parse_request(msgs[k], lens[k], 0, &head, fields, 64, NULL);
        if (r < 0)
            abort();
        sink += head.num_headers + head.body_kind + head.method_len;
    }
}

typedef struct {
    const char *name[64], *value[64];
    size_t name_len[64], value_len[64];
    size_t n;
    const char *url;
    size_t url_len;
    bool done;
} hp_out_t;

static int on_url(http_parser *p, const char *at, size_t len)
{
    hp_out_t *o = p->data;
    o->url = at;
    o->url_len = len;
    return 0;
}
static int on_field(http_parser *p, const char *at, size_t len)
{
    hp_out_t *o = p->data;
    o->name[o->n] = at;
    o->name_len[o->n] = len;
    return 0;
}
static int on_value(http_parser *p, const char *at, size_t len)
{
    hp_out_t *o = p->data;
    o->value[o->n] = at;
    o->value_len[o->n] = len;
    if (o->n < 63)
        o->n++;
    return 0;
}
static int on_headers_complete(http_parser *p)
{
    hp_out_t *o = p->data;
    o->done = true;
    return 0;
}

static void run_hp(long n, const char **msgs, const size_t *lens)
{
    http_parser_settings s;
    http_parser_settings_init(&s);
    s.on_url = on_url;
    s.on_header_field = on_field;
    s.on_header_value = on_value;
    s.on_headers_complete = on_headers_complete;
    http_parser p;
    hp_out_t o;
    for (long i = 0; i < n; i++) {
        size_t k = (size_t)i % NREQ;
        http_parser_init(&p, HTTP_REQUEST);
        o.n = 0;
        o.done = false;
        p.data = &o;
        /* Stops after the head here: requests[2] and [3] announce bodies. */
        http_parser_execute(&p, &s, msgs[k], lens[k]);
        if (!o.done || HTTP_PARSER_ERRNO(&p) != HPE_OK)
            abort();
        sink += o.n + p.method + o.url_len + http_should_keep_alive(&p);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s acio|http-parser N\n", argv[0]);
        return 2;
    }
    long n = atol(argv[2]);
    const char *msgs[NREQ];
    size_t lens[NREQ];
    for (size_t k = 0; k < NREQ; k++) {
        lens[k] = strlen(requests[k]);
        msgs[k] = requests[k];
    }
    bool acio = strcmp(argv[1], "acio") == 0;
    /* Warm-up, then the measured run. */
    if (acio)
        run_acio(n / 10 + 1, msgs, lens);
    else
        run_hp(n / 10 + 1, msgs, lens);
    double c0 = bench_cpu_ms();
    int64_t t0 = bench_now_ns();
    if (acio)
        run_acio(n, msgs, lens);
    else
        run_hp(n, msgs, lens);
    bench_print_per_op(c0, t0, n);
    return 0;
}
