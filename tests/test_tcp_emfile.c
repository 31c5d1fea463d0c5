/* The accept loop under fd exhaustion. Criterion runs this test in its own process, so
 * lowering RLIMIT_NOFILE here affects nobody else. Ten clients connect while the server
 * can only hold three more fds: the server accepts three, hits EMFILE, pauses accepting
 * (reporting it to the exception handler), and every time connections are closed it
 * resumes and accepts more, until all ten were accepted: none is lost, the server keeps
 * serving. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "acio.h"
#include "support/check.h"
#include "support/rc.h"

#define NCLIENTS 10

typedef struct {
    acio_transport_t *open[NCLIENTS];
    int nopen;
    int accepted;
    int lost;
    int emfile_reports;
} state_t;

static state_t st;

static void made(acio_transport_t *t, void *d)
{
    (void)d;
    st.open[st.nopen++] = t;
    st.accepted++;
}

static void lost(acio_transport_t *t, int e, void *d)
{
    (void)t;
    (void)e;
    (void)d;
    st.lost++;
}

static const acio_protocol_t proto = {.connection_made = made, .connection_lost = lost};

static int factory(void *fd, const acio_protocol_t **p, void **d)
{
    (void)fd;
    *p = &proto;
    *d = NULL;
    return 0;
}

static void handler(acio_loop_t *loop, const acio_error_context_t *ctx, void *data)
{
    (void)loop;
    (void)data;
    if (ctx->code == -EMFILE || ctx->code == -ENFILE)
        st.emfile_reports++;
}

static int highest_fd(void)
{
    int hi = -1;
    for (int fd = 0; fd < 4096; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            hi = fd;
    return hi;
}

static void *emfile_main(void *arg)
{
    (void)arg;
    acio_loop_set_exception_handler(acio_get_running_loop(), handler, NULL);
    acio_server_opts_t o = {.accept_retry_delay = 0.05};
    acio_server_t *srv;
    int rc = acio_loop_create_server(NULL, &srv, factory, NULL, "127.0.0.1", 0, &o);
    CHECK(rc == 0, "create_server: %s", acio_strerror(rc));
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)acio_server_port(srv)),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int clients[NCLIENTS];
    for (int i = 0; i < NCLIENTS; i++) {
        clients[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(clients[i], (struct sockaddr *)&to, sizeof(to));
    }
    /* Leave room for exactly three accepted sockets: fds are allocated lowest first, and
     * every fd below the highest one in use is taken. */
    int hi = highest_fd();
    int holes = 0;
    for (int fd = 0; fd < hi; fd++)
        if (fcntl(fd, F_GETFD) < 0)
            holes++;
    struct rlimit old, rl;
    getrlimit(RLIMIT_NOFILE, &old);
    rl = old;
    rl.rlim_cur = (rlim_t)(hi + 1 + 3 - holes);
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit");
    /* Serve: accept what fits, then close those connections to make room, repeatedly. */
    int rounds = 0;
    while (st.accepted < NCLIENTS && rounds < 100) {
        rounds++;
        int before = st.accepted;
        for (int i = 0; i < 200 && st.accepted == before; i++)
            OK(acio_sleep(0.005));
        OK(acio_sleep(0.02)); /* let it accept all it can in this round */
        CHECK(st.accepted - before <= 3 + holes, "round %d accepted %d with room for 3", rounds,
              st.accepted - before);
        CHECK(acio_server_is_serving(srv), "the server keeps serving");
        for (int i = 0; i < st.nopen; i++)
            acio_transport_abort(st.open[i]);
        st.nopen = 0;
        OK(acio_sleep(0)); /* connection_lost closes the fds */
    }
    CHECK(st.accepted == NCLIENTS, "accepted %d of %d connections", st.accepted, NCLIENTS);
    CHECK(st.emfile_reports >= 1, "EMFILE was reported");
    /* Paused, not spinning: a level-triggered listening socket that stays registered
     * would report EMFILE on every loop iteration. */
    CHECK(st.emfile_reports < 100, "accepting paused between retries (%d reports)",
          st.emfile_reports);
    CHECK(rounds >= 3, "it took several rounds (%d)", rounds);
    setrlimit(RLIMIT_NOFILE, &old);
    for (int i = 0; i < NCLIENTS; i++)
        close(clients[i]);
    acio_server_close(srv);
    OK(acio_server_wait_closed(srv));
    acio_server_free(srv);
    return NULL;
}

Test(tcp_emfile, accept_survives_fd_exhaustion, .timeout = 60)
{
    char *msg = NULL;
    int rc = acio_run_ex(emfile_main, NULL, NULL, &msg);
    cr_assert_eq(rc, 0, "main failed: %s: %s", acio_err_name(rc), msg ? msg : "");
    free(msg);
}
