/* Seed 001 section 5.3, the FastAPI app luffy.py, without its Redis part (that comes
 * with the database issue):
 *
 *   app = FastAPI()
 *   @app.get("/")
 *   def index(): return {"message": "Hello World"}
 *   @app.get("/red")
 *   async def red():
 *       print("请求来了"); await asyncio.sleep(3); ...; return result
 *   uvicorn.run("luffy:app", host="127.0.0.1", port=5000)
 *
 * Usage:
 *   fastapi_hello serve [port]   uvicorn.run: serve on 127.0.0.1:5000 until Ctrl-C
 *   fastapi_hello                the demo the tests run: serve on a free port inside
 *                                this program's loop, ask GET / and, twice at once,
 *                                GET /red over raw connections, print the answers, stop
 * The demo sleeps 1 s in /red instead of the seed's 3 s, to keep the tests quick. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <acio.h>

static double red_sleep = 3;

static int index_route(acio_http_request_t *req, void *arg) /* def index():            */
{
    (void)arg;
    json_t *v = json_pack("{s:s}", "message", "Hello World");
    int rc = acio_http_respond_json(req, 200, v); /* return {"message": ...}       */
    json_decref(v);
    return rc;
}

static int red(acio_http_request_t *req, void *arg) /* async def red():                 */
{
    (void)arg;
    printf("请求来了\n"); /* print("请求来了") */
    fflush(stdout);
    int rc = acio_sleep(red_sleep); /* await asyncio.sleep(3) */
    if (rc < 0)
        return rc;
    /* The seed answers with a Redis hash here (hgetall('car')); until the Redis client
     * exists, the values it would have stored. */
    json_t *v = json_pack("{s:s,s:s,s:s}", "key1", "1", "key2", "2", "key3", "3");
    rc = acio_http_respond_json(req, 200, v);
    json_decref(v);
    return rc;
}

/* ---- the demo's client: one request per connection, the answer's body printed ---- */

typedef struct {
    int port;
    const char *path;
    char out[256];
} fetch_t;

static void *fetch(void *arg)
{
    fetch_t *f = arg;
    acio_stream_reader_t *r;
    acio_stream_writer_t *w;
    int rc = acio_open_connection(&r, &w, "127.0.0.1", f->port, 0, NULL);
    if (rc < 0)
        return acio_raise(rc, "connect: %s", acio_strerror(rc));
    char req[256];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", f->path);
    void *all = NULL;
    size_t len = 0;
    rc = acio_stream_writer_write(w, req, (size_t)n);
    if (rc == 0)
        rc = acio_stream_reader_read_all(r, &all, &len);
    acio_stream_writer_close(w);
    int crc = acio_stream_writer_wait_closed(w);
    if (rc == 0)
        rc = crc;
    acio_stream_reader_unref(r);
    acio_stream_writer_unref(w);
    if (rc < 0)
        return acio_raise(rc, "read: %s", acio_strerror(rc));
    const char *text = all;
    const char *body = strstr(text, "\r\n\r\n");
    int status = 0;
    sscanf(text, "HTTP/1.1 %d", &status);
    snprintf(f->out, sizeof f->out, "GET %s -> %d %s", f->path, status, body ? body + 4 : "");
    free(all);
    return NULL;
}

static void *demo(void *arg)
{
    acio_http_app_t *app = arg;
    acio_http_config_t cfg;
    acio_http_config_init(&cfg);
    cfg.port = 0;
    cfg.access_log = false; /* keep the demo's output to what it prints */
    acio_http_server_t *srv;
    int rc = acio_http_server_start(NULL, app, &cfg, &srv);
    if (rc < 0)
        return acio_raise(rc, "cannot listen: %s", acio_strerror(rc));
    int port = acio_http_server_port(srv);

    fetch_t one = {port, "/", ""};
    if (fetch(&one) == NULL && one.out[0])
        printf("%s\n", one.out);

    /* Two slow requests at once: both handlers print, then both answer a second later. */
    fetch_t a = {port, "/red", ""}, b = {port, "/red", ""};
    acio_task_t *ta = NULL, *tb = NULL;
    rc = acio_create_task(&ta, fetch, &a, NULL);
    if (rc == 0)
        rc = acio_create_task(&tb, fetch, &b, NULL);
    if (rc == 0)
        rc = acio_await(ta, NULL);
    if (rc == 0)
        rc = acio_await(tb, NULL);
    acio_future_unref(ta);
    acio_future_unref(tb);
    if (rc == 0)
        printf("%s\n%s\n", a.out, b.out);

    int src = acio_http_server_shutdown(srv, 5);
    acio_http_server_free(srv);
    if (rc < 0)
        return acio_raise(rc, "the /red requests failed: %s", acio_strerror(rc));
    if (src < 0)
        return acio_raise(src, "shutdown: %s", acio_strerror(src));
    return NULL;
}

int main(int argc, char **argv)
{
    acio_http_app_t *app; /* app = FastAPI()        */
    if (acio_http_app_new(&app) < 0)
        return 1;
    acio_http_app_route(app, "GET", "/", index_route, NULL); /* @app.get("/")          */
    acio_http_app_route(app, "GET", "/red", red, NULL);      /* @app.get("/red")       */
    int rc;
    if (argc > 1 && strcmp(argv[1], "serve") == 0) {
        acio_http_config_t cfg; /* uvicorn.run(app, host="127.0.0.1", port=5000) */
        acio_http_config_init(&cfg);
        cfg.host = "127.0.0.1";
        cfg.port = argc > 2 ? atoi(argv[2]) : 5000;
        rc = acio_http_serve(app, &cfg);
    } else {
        red_sleep = 1;
        rc = acio_run(demo, app, NULL);
    }
    acio_http_app_free(app);
    if (rc < 0) {
        fprintf(stderr, "fastapi_hello: %s\n", acio_strerror(rc));
        return 1;
    }
    return 0;
}
