/* The HTTP hello-world bench server: GET / answers "Hello, World!" (text/plain) on a
 * keep-alive connection, access log off, one loop (the bench pins it to one core).
 * Usage: http_acio_hello PORT. Prints "ready PORT" on stdout once listening, serves until
 * SIGTERM/SIGINT. The same workload as bench/http/{hello.go,hello_uvicorn.py,
 * hello_aiohttp.py,nginx.conf}. */
#include <stdio.h>
#include <stdlib.h>

#include <acio.h>

static int hello(acio_http_request_t *req, void *arg)
{
    (void)arg;
    return acio_http_respond(req, 200, "text/plain", "Hello, World!", 13);
}

int main(int argc, char **argv)
{
    acio_http_app_t *app;
    if (acio_http_app_new(&app) < 0 || acio_http_app_route(app, "GET", "/", hello, NULL) < 0)
        return 1;
    acio_http_config_t cfg;
    acio_http_config_init(&cfg);
    cfg.port = argc > 1 ? atoi(argv[1]) : 8080;
    cfg.access_log = false;
    cfg.backlog = 4096;
    printf("ready %d\n", cfg.port);
    fflush(stdout);
    int rc = acio_http_serve(app, &cfg);
    acio_http_app_free(app);
    if (rc < 0) {
        fprintf(stderr, "http_acio_hello: %s\n", acio_strerror(rc));
        return 1;
    }
    return 0;
}
