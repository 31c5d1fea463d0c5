/* Seed 001 "asyncio + 不支持异步的模块" (asyncio with a library that is not async):
 * requests.get is blocking, so each download runs it in the default thread pool while the
 * loop keeps the other downloads going:
 *
 *     async def download_image(url):
 *         print("开始下载:", url)
 *         loop = asyncio.get_event_loop()
 *         future = loop.run_in_executor(None, requests.get, url)
 *         response = await future
 *         print('下载完成')
 *         file_name = url.rsplit('_')[-1]
 *         with open(file_name, mode='wb') as file_object:
 *             file_object.write(response.content)
 *
 * Tests may not reach the internet, so blocking_get() stands in for requests.get (a
 * blocking sleep, then the "image" bytes), and instead of writing files each download
 * returns its file name and size, printed once all are done (the seed's
 * loop.run_until_complete(asyncio.wait(tasks)) no longer accepts coroutines in Python
 * 3.11, so the tasks are created and awaited one by one). The Python equivalent prints
 * exactly the same lines. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <acio.h>

typedef struct {
    const char *url;
    const char *file_name;
    size_t size;
} download_t;

/* requests.get(url) stand-in: blocks, then returns a malloc'd "response body". */
static void *blocking_get(void *arg, acio_job_t *job)
{
    const char *url = arg;
    struct timespec d = {0, (long)(strlen(url) % 3 + 1) * 100 * 1000 * 1000};
    nanosleep(&d, NULL);
    size_t n = strlen(url) + sizeof "<image bytes of >";
    char *body = malloc(n);
    if (!body)
        return acio_job_raise(job, -ENOMEM, "GET %s", url);
    snprintf(body, n, "<image bytes of %s>", url);
    return body;
}

static void *download_image(void *arg)
{
    download_t *d = arg;
    printf("开始下载: %s\n", d->url);
    acio_loop_t *loop = acio_get_running_loop();
    acio_future_t *future;
    int rc = acio_loop_run_in_executor(loop, NULL, blocking_get, (void *)d->url, &future);
    if (rc < 0)
        return acio_raise(rc, "run_in_executor");
    char *response = NULL;
    rc = acio_await(future, (void **)&response);
    acio_future_unref(future);
    if (rc < 0)
        return acio_raise(rc, "GET %s", d->url);
    printf("下载完成\n");
    d->file_name = strrchr(d->url, '_') + 1; /* url.rsplit('_')[-1] */
    d->size = strlen(response);
    free(response);
    return NULL;
}

static void *main_task(void *arg)
{
    (void)arg;
    static download_t downloads[] = {
        {.url = "https://www3.autoimg.cn/newsdfs/g26/M02/35/A9/"
                "120x90_0_autohomecar__ChsEe12AXQ6AOOH_AAFocMs8nzU621.jpg"},
        {.url = "https://www2.autoimg.cn/newsdfs/g30/M01/3C/E2/"
                "120x90_0_autohomecar__ChcCSV2BBICAUntfAADjJFd6800429.jpg"},
        {.url = "https://www3.autoimg.cn/newsdfs/g26/M0B/3C/65/"
                "120x90_0_autohomecar__ChcCP12BFCmAIO83AAGq7vK0sGY193.jpg"},
    };
    acio_task_t *tasks[3] = {NULL, NULL, NULL};
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = acio_create_task(&tasks[i], download_image, &downloads[i], NULL);
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = acio_await(tasks[i], NULL);
    for (int i = 0; i < 3; i++)
        acio_future_unref(tasks[i]);
    if (rc < 0)
        return acio_raise(rc, "a download failed");
    for (int i = 0; i < 3; i++)
        printf("%s %zu\n", downloads[i].file_name, downloads[i].size);
    return NULL;
}

int main(void)
{
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0)
        fprintf(stderr, "run_in_executor_download: %s\n", acio_strerror(rc));
    return rc < 0;
}
