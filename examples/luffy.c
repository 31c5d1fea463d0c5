/* Seed 001 section 5.3, the FastAPI app luffy.py, whole: its async route takes a
 * connection from a Redis pool, sets a hash, reads it back and answers with it as JSON.
 *
 *   app = FastAPI()
 *   REDIS_POOL = aioredis.ConnectionsPool('redis://47.193.14.198:6379',
 *                                         password="root123", minsize=1, maxsize=10)
 *   @app.get("/")
 *   def index(): return {"message": "Hello World"}
 *   @app.get("/red")
 *   async def red():
 *       print("请求来了")                                  # "a request came in"
 *       await asyncio.sleep(3)
 *       conn = await REDIS_POOL.acquire()
 *       redis = Redis(conn)
 *       await redis.hmset_dict('car', key1=1, key2=2, key3=3)
 *       result = await redis.hgetall('car', encoding='utf-8')
 *       print(result)
 *       REDIS_POOL.release(conn)
 *       return result
 *   uvicorn.run("luffy:app", host="127.0.0.1", port=5000, log_level="info")
 *
 * The Redis server's URL comes from ACIO_REDIS_URL (the test starts a local
 * redis-server with a password; default redis://:root123@127.0.0.1:6379).
 *
 * Usage:
 *   luffy serve [port]   uvicorn.run: serve on 127.0.0.1:5000 until Ctrl-C
 *   luffy                the demo the tests run: serve on a free port inside this
 *                        program's loop, ask GET / and then GET /red twice at once with
 *                        acio's HTTP client (what a browser would do), print the
 *                        answers, stop
 * The demo sleeps 1 s in /red instead of the seed's 3 s, to keep the tests quick. Both
 * /red handlers print their line before either finishes its sleep, and their results are
 * the same, so the output does not depend on which one the loop finishes first. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <acio.h>

static double red_sleep = 3;
static acio_redis_pool_t *REDIS_POOL; /* created on the server's loop (see open_pool) */

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
    acio_redis_t *redis; /* conn = await REDIS_POOL.acquire() */
    rc = acio_redis_pool_acquire(REDIS_POOL, &redis);
    if (rc < 0)
        return acio_http_error(req, rc, "redis pool: %s", acio_strerror(rc));
    const char *fields[] = {"key1", "1", "key2", "2", "key3", "3"};
    rc = acio_redis_hset(redis, "car", fields, 3, NULL); /* hmset_dict('car', key1=1, ...) */
    acio_redis_reply_t *result = NULL;
    if (rc == 0)
        rc = acio_redis_hgetall(redis, "car", &result); /* hgetall('car', encoding='utf-8') */
    acio_redis_pool_release(REDIS_POOL, redis);         /* REDIS_POOL.release(conn) */
    if (rc < 0)
        return acio_http_error(req, rc, "redis: %s", acio_strerror(rc));
    /* print(result), as Python prints a dict; and the dict as JSON for the answer. */
    json_t *obj = json_object();
    printf("{");
    for (size_t i = 0; i + 1 < result->elements; i += 2) {
        const char *k = result->element[i]->str, *v = result->element[i + 1]->str;
        printf("%s'%s': '%s'", i ? ", " : "", k, v);
        json_object_set_new(obj, k, json_string(v));
    }
    printf("}\n");
    fflush(stdout);
    acio_redis_reply_free(result);
    rc = acio_http_respond_json(req, 200, obj); /* return result */
    json_decref(obj);
    return rc;
}

/* REDIS_POOL = aioredis.ConnectionsPool(url, minsize=1, maxsize=10). A pool belongs to
 * the loop it was made on, so it is made inside the server's loop. */
static int open_pool(void)
{
    const char *url = getenv("ACIO_REDIS_URL");
    acio_redis_opts_t opts;
    char *store;
    int rc = acio_redis_opts_from_url(&opts, url ? url : "redis://:root123@127.0.0.1:6379", &store);
    if (rc < 0)
        return rc;
    acio_redis_pool_opts_t popts = {.minsize = 1, .maxsize = 10};
    rc = acio_redis_pool_new(&REDIS_POOL, &opts, &popts);
    free(store);
    if (rc < 0)
        fprintf(stderr, "luffy: Redis: %s\n", acio_redis_connect_error());
    return rc;
}

/* ---- uvicorn.run ---- */

typedef struct {
    acio_http_app_t *app;
    int port;
} serve_t;

static void on_signal(int signo, void *data)
{
    (void)signo;
    acio_event_set(data);
}

static void *serve(void *arg)
{
    serve_t *sv = arg;
    int rc = open_pool();
    if (rc < 0)
        return acio_raise(rc, "Redis: %s", acio_strerror(rc));
    acio_http_config_t cfg; /* uvicorn.run(app, host="127.0.0.1", port=5000) */
    acio_http_config_init(&cfg);
    cfg.host = "127.0.0.1";
    cfg.port = sv->port;
    acio_http_server_t *srv;
    rc = acio_http_server_start(NULL, sv->app, &cfg, &srv);
    if (rc == 0) {
        fprintf(stderr, "luffy: serving on http://127.0.0.1:%d (Ctrl-C to quit)\n",
                acio_http_server_port(srv));
        acio_loop_t *loop = acio_get_running_loop();
        acio_event_t *stop = NULL; /* until Ctrl-C (or SIGTERM) */
        rc = acio_event_new(&stop);
        if (rc == 0)
            rc = acio_loop_add_signal_handler(loop, SIGINT, on_signal, stop);
        if (rc == 0)
            rc = acio_loop_add_signal_handler(loop, SIGTERM, on_signal, stop);
        if (rc == 0)
            rc = acio_event_wait(stop);
        acio_loop_remove_signal_handlers(loop);
        acio_event_free(stop);
        int src = acio_http_server_shutdown(srv, -1);
        acio_http_server_free(srv);
        if (rc >= 0)
            rc = src;
    }
    acio_redis_pool_close(REDIS_POOL);
    return rc < 0 ? acio_raise(rc, "%s", acio_strerror(rc)) : NULL;
}

/* ---- the demo: the server and its client in one loop ---- */

typedef struct {
    acio_http_session_t *session;
    char url[64];
    char out[256];
} get_t;

static void *get(void *arg) /* what a browser does: GET url, print status and body */
{
    get_t *g = arg;
    acio_http_response_t *r;
    int rc = acio_http_get(g->session, g->url, &r);
    if (rc < 0)
        return acio_raise(rc, "GET %s: %s", g->url, acio_strerror(rc));
    const char *text;
    size_t len;
    rc = acio_http_response_text(r, &text, &len);
    if (rc == 0)
        snprintf(g->out, sizeof g->out, "GET %s -> %d %s", strchr(g->url + 7, '/'),
                 acio_http_response_status(r), text);
    acio_http_response_release(r);
    return rc < 0 ? acio_raise(rc, "GET %s: %s", g->url, acio_strerror(rc)) : NULL;
}

static void *demo(void *arg)
{
    acio_http_app_t *app = arg;
    int rc = open_pool();
    if (rc < 0)
        return acio_raise(rc, "Redis: %s", acio_strerror(rc));
    acio_http_config_t cfg;
    acio_http_config_init(&cfg);
    cfg.port = 0;
    cfg.access_log = false; /* keep the demo's output to what it prints */
    acio_http_server_t *srv;
    rc = acio_http_server_start(NULL, app, &cfg, &srv);
    if (rc < 0) {
        acio_redis_pool_close(REDIS_POOL);
        return acio_raise(rc, "cannot listen: %s", acio_strerror(rc));
    }
    int port = acio_http_server_port(srv);
    acio_http_session_t *session = NULL;
    rc = acio_http_session_new(&session, NULL);

    get_t one = {.session = session};
    snprintf(one.url, sizeof one.url, "http://127.0.0.1:%d/", port);
    if (rc == 0 && get(&one) == NULL)
        printf("%s\n", one.out);

    /* Two requests to the async route at once: both handlers print, sleep, then each
     * takes a pooled Redis connection. */
    get_t a = {.session = session}, b = {.session = session};
    snprintf(a.url, sizeof a.url, "http://127.0.0.1:%d/red", port);
    snprintf(b.url, sizeof b.url, "http://127.0.0.1:%d/red", port);
    acio_task_t *ta = NULL, *tb = NULL;
    if (rc == 0)
        rc = acio_create_task(&ta, get, &a, NULL);
    if (rc == 0)
        rc = acio_create_task(&tb, get, &b, NULL);
    if (rc == 0)
        rc = acio_await(ta, NULL);
    if (rc == 0)
        rc = acio_await(tb, NULL);
    acio_future_unref(ta);
    acio_future_unref(tb);
    if (rc == 0)
        printf("%s\n%s\n", a.out, b.out);

    acio_http_session_close(session);
    int src = acio_http_server_shutdown(srv, 5);
    acio_http_server_free(srv);
    acio_redis_pool_close(REDIS_POOL);
    if (rc < 0)
        return acio_raise(rc, "the requests failed: %s", acio_strerror(rc));
    if (src < 0)
        return acio_raise(src, "shutdown: %s", acio_strerror(src));
    return NULL;
}

int main(int argc, char **argv)
{
    acio_http_app_t *app; /* app = FastAPI()        */
    if (acio_http_app_new(&app) < 0)
        return 1;
    if (acio_http_app_route(app, "GET", "/", index_route, NULL) < 0 || /* @app.get("/") */
        acio_http_app_route(app, "GET", "/red", red, NULL) < 0) {      /* @app.get("/red") */
        acio_http_app_free(app);
        return 1;
    }
    char *msg = NULL;
    int rc;
    if (argc > 1 && strcmp(argv[1], "serve") == 0) {
        serve_t sv = {app, argc > 2 ? atoi(argv[2]) : 5000};
        rc = acio_run_ex(serve, &sv, NULL, &msg);
    } else {
        red_sleep = 1;
        rc = acio_run_ex(demo, app, NULL, &msg);
    }
    acio_http_app_free(app);
    if (rc < 0) {
        fprintf(stderr, "luffy: %s\n", msg ? msg : acio_strerror(rc));
        free(msg);
        return 1;
    }
    free(msg);
    return 0;
}
