/* libFuzzer target: HTTP requests (head and body) through acio's parser. The first byte
 * chooses where the input is split for the incremental check and whether small limits
 * apply; the rest is the message. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    acio_http_limits_t lim;
    acio_http_limits_default(&lim);
    if (data[0] & 0x80) {
        lim.max_start_line = 64;
        lim.max_header_line = 64;
        lim.max_headers = 4;
        lim.max_head_bytes = 256;
        lim.max_chunk_ext = 16;
        lim.max_trailer_bytes = 32;
    }
    size_t split = size > 1 ? (size_t)(data[0] & 0x7f) * (size - 1) / 127 : 0;
    fuzz_message(NULL, data + 1, size - 1, split, &lim);
    return 0;
}
