/* Process.communicate(input): feed stdin, collect stdout and stderr, wait for the exit.
 *
 * asyncio gathers three coroutines (feed stdin, read stdout, read stderr). Here the pipes
 * are streams whose transports make progress on their own (the stdin transport flushes
 * its buffer and the readers' transports fill their buffers from loop callbacks), so one
 * task can await them one after the other and all three still advance together: while
 * we wait for stdin to be flushed, stdout and stderr keep being read. The readers are
 * switched to unlimited buffering first; otherwise a child blocked on a full stderr pipe
 * would never close stdout, and we would wait for each other forever (asyncio avoids it
 * by reading both at once). Nothing is taken out of the readers until everything is in,
 * so a cancelled communicate() loses no output. */
#include <errno.h>
#include <stdlib.h>

#include "os/process.h"

static void give(void *data, size_t len, void **out, size_t *out_len)
{
    if (out)
        *out = data;
    else
        free(data);
    if (out_len)
        *out_len = len;
}

/* A child that exits or closes its stdin without reading it all: Python's _feed_stdin
 * ignores BrokenPipeError and ConnectionResetError. */
static int ignore_broken_pipe(int rc)
{
    return rc == -EPIPE || rc == -ECONNRESET ? 0 : rc;
}

static void set_unlimited(acio_process_t *p, bool on)
{
    if (p->out)
        acio__stream_reader_set_unlimited(p->out, on);
    if (p->err)
        acio__stream_reader_set_unlimited(p->err, on);
}

int acio_process_communicate(acio_process_t *p, const void *input, size_t input_len,
                             void **out_data, size_t *out_len, void **err_data, size_t *err_len)
{
    if (!p || (input && !p->in) || (!input && input_len))
        return -EINVAL;
    if (!acio_current_task())
        return ACIO_ENOTASK;
    if (out_data)
        *out_data = NULL;
    if (err_data)
        *err_data = NULL;
    give(NULL, 0, NULL, out_len);
    give(NULL, 0, NULL, err_len);

    set_unlimited(p, true);
    int rc = 0;
    if (input) {
        rc = ignore_broken_pipe(acio_stream_writer_write(p->in, input, input_len));
        acio_stream_writer_close(p->in);
        if (rc == 0)
            rc = ignore_broken_pipe(acio_stream_writer_wait_closed(p->in));
    }

    /* Wait for both EOFs first and take the data only then: a cancellation in
     * between leaves every byte in the readers. */
    if (rc == 0 && p->out)
        rc = acio__stream_reader_wait_eof(p->out);
    if (rc == 0 && p->err)
        rc = acio__stream_reader_wait_eof(p->err);
    if (rc == 0)
        rc = acio_process_wait(p, NULL);
    void *out = NULL, *err = NULL;
    size_t olen = 0, elen = 0;
    if (rc == 0 && p->out)
        rc = acio__stream_reader_take_all(p->out, &out, &olen);
    if (rc == 0 && p->err)
        rc = acio__stream_reader_take_all(p->err, &err, &elen);

    set_unlimited(p, false);
    if (rc < 0) {
        free(out);
        free(err);
        return rc;
    }
    give(out, olen, out_data, out_len);
    give(err, elen, err_data, err_len);
    return 0;
}
