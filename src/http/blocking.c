/* The one-call form for code outside any loop (requests.get): a loop of its own, a
 * session, the request, the whole body read, everything closed; the response that comes
 * back holds its body in memory, so reading it needs no loop. */
#include <string.h>

#include "http/client_int.h"

typedef struct {
    const char *method, *url;
    const acio_http_request_opts_t *opts;
    const acio_http_session_opts_t *sopts;
    acio_http_response_t *resp;
    int rc;
} job_t;

static void *job_main(void *arg)
{
    job_t *j = arg;
    acio_http_session_t *s;
    j->rc = acio_http_session_new(&s, j->sopts);
    if (j->rc < 0)
        return NULL;
    j->rc = acio_http_request(s, j->method, j->url, j->opts, &j->resp);
    if (j->rc == 0) {
        j->rc = acio_http_response_read(j->resp, NULL, NULL);
        if (j->rc < 0) {
            acio_http_response_release(j->resp);
            j->resp = NULL;
        }
    }
    acio_http_session_close(s);
    return NULL;
}

int acio_http_fetch_blocking(const char *method, const char *url,
                             const acio_http_request_opts_t *opts,
                             const acio_http_session_opts_t *sopts, acio_http_response_t **out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (acio_get_running_loop())
        return ACIO_ERUNNING;
    job_t j = {method ? method : "GET", url, opts, sopts, NULL, 0};
    int rc = acio_run(job_main, &j, NULL);
    if (rc < 0) {
        acio_http_response_release(j.resp);
        return rc;
    }
    if (j.rc < 0)
        return j.rc;
    *out = j.resp;
    return 0;
}
