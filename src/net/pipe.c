/* loop.connect_read_pipe / connect_write_pipe: the socket transport of sock_transport.c
 * in its pipe modes (read/write instead of recv/send, no half-close, the write end
 * watched for its reader going away). */
#include <errno.h>
#include <sys/stat.h>

#include "net/fdwait.h"
#include "net/transport_int.h"

static int connect_pipe(acio_loop_t *loop, acio_transport_t **out, const acio_protocol_t *proto,
                        void *proto_data, int fd, int kind)
{
    if (out)
        *out = NULL;
    int rc = acio__net_coro_loop(&loop);
    if (rc < 0)
        return rc;
    if (!proto || fd < 0)
        return -EINVAL;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    /* asyncio: "Pipe transport is for pipes/sockets/character devices only". */
    if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) && !S_ISCHR(st.st_mode))
        return -EINVAL;
    if ((rc = acio__fd_nonblock_cloexec(fd)) < 0)
        return rc;
    acio_transport_t *t;
    rc = acio__sock_transport_new(loop, fd, kind, proto, proto_data, &t);
    if (rc < 0)
        return rc;
    return acio__transport_await_made(t, out);
}

int acio_loop_connect_read_pipe(acio_loop_t *loop, acio_transport_t **out,
                                const acio_protocol_t *proto, void *proto_data, int fd)
{
    return connect_pipe(loop, out, proto, proto_data, fd, ACIO__ST_PIPE_READ);
}

int acio_loop_connect_write_pipe(acio_loop_t *loop, acio_transport_t **out,
                                 const acio_protocol_t *proto, void *proto_data, int fd)
{
    return connect_pipe(loop, out, proto, proto_data, fd, ACIO__ST_PIPE_WRITE);
}
