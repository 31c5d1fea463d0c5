/* libFuzzer target: the chunked body decoder on its own. The first four bytes are piece
 * sizes (the body is decoded whole and in those pieces, which must agree); the rest is
 * the chunked body. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    acio_http_limits_t lim;
    acio_http_limits_default(&lim);
    lim.max_chunk_ext = 64;
    lim.max_trailer_bytes = 128;
    acio_http_head_t head = {.body_kind = ACIO_HTTP_BODY_CHUNKED};
    acio_http_body_t bw, bp;
    acio_http_body_init(&bw, &head, &lim);
    acio_http_body_init(&bp, &head, &lim);
    const uint8_t *body = data + 4;
    size_t len = size - 4;
    char *o1 = malloc(len + 1), *o2 = malloc(len + 1);
    size_t l1, l2, c1, c2;
    int v1 = fuzz_decode(&bw, body, len, NULL, 0, o1, &l1, &c1);
    int v2 = fuzz_decode(&bp, body, len, data, 4, o2, &l2, &c2);
    FUZZ_CHECK(v1 == v2);
    if (v1 == 0)
        FUZZ_CHECK(c1 == c2 && l1 == l2 && memcmp(o1, o2, l1) == 0 && l1 < len);
    free(o1);
    free(o2);
    return 0;
}
