/* libFuzzer target: HTTP responses (head and body) through acio's parser. The first byte
 * chooses the request method (framing depends on it) and the split point. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *methods[] = {"GET", "HEAD", "POST", "CONNECT"};
    if (size < 1)
        return 0;
    acio_http_limits_t lim;
    acio_http_limits_default(&lim);
    const char *method = methods[data[0] & 3];
    size_t split = size > 1 ? (size_t)(data[0] >> 2) * (size - 1) / 63 : 0;
    fuzz_message(method, data + 1, size - 1, split, &lim);
    return 0;
}
