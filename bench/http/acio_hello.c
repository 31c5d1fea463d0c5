/* The HTTP hello-world bench server (acio): GET / answers "Hello, World!" (text/plain)
 * on keep-alive connections, access log off, one loop (bench/run.sh pins it to one core).
 * Usage: http_acio_hello [PORT]   (0, the default, picks a free port). Prints
 * "Serving on 127.0.0.1:PORT" once listening and serves until SIGTERM or SIGINT.
 * The same workload as hello.go, hello_uvicorn.py, hello_aiohttp.py and nginx.conf. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <acio.h>

static int hello(acio_http_request_t *req, void *arg)
{
    (void)arg;
    return acio_http_respond(req, 200, "text/plain", "Hello, World!", 13);
}

static void on_signal(int signo, void *data)
{
    (void)signo;
    if (!acio_future_done(data))
        acio_future_set_result(data, NULL);
}

static void *serve(void *arg)
{
    acio_http_app_t *app = NULL;
    if (acio_http_app_new(&app) < 0 || acio_http_app_route(app, "GET", "/", hello, NULL) < 0)
        return acio_raise(-ENOMEM, "no memory");
    acio_http_config_t cfg;
    acio_http_config_init(&cfg);
    cfg.port = *(int *)arg;
    cfg.access_log = false;
    cfg.backlog = 4096;
    acio_http_server_t *srv;
    int rc = acio_http_server_start(NULL, app, &cfg, &srv);
    if (rc < 0)
        return acio_raise(rc, "cannot listen: %s", acio_strerror(rc));
    printf("Serving on 127.0.0.1:%d\n", acio_http_server_port(srv));
    fflush(stdout);
    acio_future_t *stop = NULL;
    acio_loop_t *loop = acio_get_running_loop();
    rc = acio_future_new(loop, &stop);
    if (rc == 0)
        rc = acio_loop_add_signal_handler(loop, SIGTERM, on_signal, stop);
    if (rc == 0)
        rc = acio_loop_add_signal_handler(loop, SIGINT, on_signal, stop);
    if (rc == 0)
        rc = acio_await(stop, NULL);
    acio_loop_remove_signal_handlers(loop);
    acio_future_unref(stop);
    int src = acio_http_server_shutdown(srv, 1);
    acio_http_server_free(srv);
    if (rc == 0)
        rc = src;
    acio_http_app_free(app);
    if (rc < 0 && rc != -ECANCELED)
        return acio_raise(rc, "serving: %s", acio_strerror(rc));
    return NULL;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    int rc = acio_run(serve, &port, NULL);
    if (rc < 0) {
        fprintf(stderr, "http_acio_hello: %s\n", acio_strerror(rc));
        return 1;
    }
    return 0;
}
