/* Content decoding as the body streams (aiohttp's auto_decompress): gzip and deflate
 * with zlib, br with libbrotli, zstd with libzstd. Each decoder keeps counts of bytes in
 * and out and stops with ACIO_EHTTP_BOMB when the decoded size passes its cap or, past
 * the first MiB, the ratio of decoded to encoded bytes passes its limit, so a small
 * hostile body cannot make the client allocate or loop without end. */
#include <brotli/decode.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

#include "http/client_int.h"

enum { D_GZIP, D_DEFLATE, D_BR, D_ZSTD };

struct hc_decoder_s {
    int kind;
    z_stream z;
    bool z_init;
    bool raw_tried; /* deflate: retried as raw deflate (no zlib header) */
    BrotliDecoderState *br;
    ZSTD_DStream *zs;
    uint64_t in_total, out_total;
    size_t max_out;
    double max_ratio;
};

int hc_decoder_new(const char *coding, size_t len, size_t max_out, double max_ratio,
                   hc_decoder_t **out)
{
    *out = NULL;
    while (len && (coding[len - 1] == ' ' || coding[len - 1] == '\t'))
        len--;
    while (len && (*coding == ' ' || *coding == '\t'))
        coding++, len--;
    int kind;
    if (hc_name_eq(coding, len, "identity") || len == 0)
        return 0;
    if (hc_name_eq(coding, len, "gzip") || hc_name_eq(coding, len, "x-gzip"))
        kind = D_GZIP;
    else if (hc_name_eq(coding, len, "deflate"))
        kind = D_DEFLATE;
    else if (hc_name_eq(coding, len, "br"))
        kind = D_BR;
    else if (hc_name_eq(coding, len, "zstd"))
        kind = D_ZSTD;
    else
        return ACIO_EHTTP_ENCODING; /* also several codings stacked ("gzip, br") */
    hc_decoder_t *d = acio__calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    d->kind = kind;
    d->max_out = max_out;
    d->max_ratio = max_ratio;
    int ok = 1;
    if (kind == D_GZIP || kind == D_DEFLATE) {
        /* 15 + 32: a zlib or gzip header, detected; deflate starts as zlib. */
        ok = inflateInit2(&d->z, kind == D_GZIP ? 15 + 32 : 15) == Z_OK;
        d->z_init = ok;
    } else if (kind == D_BR) {
        d->br = BrotliDecoderCreateInstance(NULL, NULL, NULL);
        ok = d->br != NULL;
    } else {
        d->zs = ZSTD_createDStream();
        ok = d->zs && !ZSTD_isError(ZSTD_initDStream(d->zs));
    }
    if (!ok) {
        hc_decoder_free(d);
        return -ENOMEM;
    }
    *out = d;
    return 0;
}

void hc_decoder_free(hc_decoder_t *d)
{
    if (!d)
        return;
    if (d->z_init)
        inflateEnd(&d->z);
    if (d->br)
        BrotliDecoderDestroyInstance(d->br);
    if (d->zs)
        ZSTD_freeDStream(d->zs);
    acio__free(d);
}

static int check_bomb(hc_decoder_t *d)
{
    if (d->out_total > d->max_out)
        return ACIO_EHTTP_BOMB;
    if (d->out_total > (1u << 20) && (double)d->out_total > d->max_ratio * (double)d->in_total)
        return ACIO_EHTTP_BOMB;
    return 0;
}

static int run_zlib(hc_decoder_t *d, const char **in, size_t *in_len, char *out, size_t cap,
                    size_t *produced)
{
    z_stream *z = &d->z;
    for (;;) {
        z->next_in = (Bytef *)*in;
        z->avail_in = (uInt)(*in_len > UINT32_MAX ? UINT32_MAX : *in_len);
        z->next_out = (Bytef *)out + *produced;
        z->avail_out = (uInt)(cap - *produced);
        uInt before_in = z->avail_in;
        int zr = inflate(z, Z_NO_FLUSH);
        size_t used = before_in - z->avail_in;
        size_t made = (cap - *produced) - z->avail_out;
        if (zr == Z_DATA_ERROR && d->kind == D_DEFLATE && !d->raw_tried && d->out_total == 0 &&
            made == 0) {
            /* "deflate" sent as raw deflate, as some servers do: start again raw. */
            d->raw_tried = true;
            inflateEnd(z);
            memset(z, 0, sizeof *z);
            d->z_init = inflateInit2(z, -15) == Z_OK;
            if (!d->z_init)
                return -ENOMEM;
            continue;
        }
        *in += used;
        *in_len -= used;
        d->in_total += used;
        *produced += made;
        d->out_total += made;
        int b = check_bomb(d);
        if (b)
            return b;
        if (zr == Z_STREAM_END) {
            /* Another gzip member may follow. */
            if (*in_len && d->kind == D_GZIP && **in == 0x1f) {
                inflateReset(z);
                if (*produced < cap)
                    continue;
                return 0;
            }
            return 1;
        }
        if (zr == Z_BUF_ERROR || (zr == Z_OK && (z->avail_out == 0 || *in_len == 0)))
            return 0;
        if (zr != Z_OK)
            return zr == Z_MEM_ERROR ? -ENOMEM : ACIO_EHTTP_DECODE;
    }
}

int hc_decoder_run(hc_decoder_t *d, const char **in, size_t *in_len, char *out, size_t cap,
                   size_t *produced)
{
    *produced = 0;
    if (d->kind == D_GZIP || d->kind == D_DEFLATE)
        return run_zlib(d, in, in_len, out, cap, produced);
    if (d->kind == D_BR) {
        size_t avail_in = *in_len, avail_out = cap;
        const uint8_t *next_in = (const uint8_t *)*in;
        uint8_t *next_out = (uint8_t *)out;
        BrotliDecoderResult br =
            BrotliDecoderDecompressStream(d->br, &avail_in, &next_in, &avail_out, &next_out, NULL);
        size_t used = *in_len - avail_in;
        *in += used;
        *in_len = avail_in;
        d->in_total += used;
        *produced = cap - avail_out;
        d->out_total += *produced;
        int b = check_bomb(d);
        if (b)
            return b;
        if (br == BROTLI_DECODER_RESULT_ERROR)
            return ACIO_EHTTP_DECODE;
        return br == BROTLI_DECODER_RESULT_SUCCESS ? 1 : 0;
    }
    ZSTD_inBuffer zin = {*in, *in_len, 0};
    ZSTD_outBuffer zout = {out, cap, 0};
    size_t zr = ZSTD_decompressStream(d->zs, &zout, &zin);
    *in += zin.pos;
    *in_len -= zin.pos;
    d->in_total += zin.pos;
    *produced = zout.pos;
    d->out_total += zout.pos;
    int b = check_bomb(d);
    if (b)
        return b;
    if (ZSTD_isError(zr))
        return ACIO_EHTTP_DECODE;
    return zr == 0 && *in_len == 0 ? 1 : 0;
}
