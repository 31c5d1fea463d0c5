/* asyncio's subprocess documentation example, run over several commands at once:
 *
 *     async def run(cmd):
 *         proc = await asyncio.create_subprocess_shell(
 *             cmd,
 *             stdout=asyncio.subprocess.PIPE,
 *             stderr=asyncio.subprocess.PIPE)
 *         stdout, stderr = await proc.communicate()
 *         print(f'[{cmd!r} exited with {proc.returncode}]')
 *         if stdout:
 *             print(f'[stdout]\n{stdout.decode()}')
 *         if stderr:
 *             print(f'[stderr]\n{stderr.decode()}')
 *
 *     async def main():
 *         await asyncio.gather(
 *             run('sleep 1; echo "hello"'),
 *             run('sleep 0.5; ls /zzz'),
 *             run('seq 3 | sort -r'))
 *
 *     asyncio.run(main())
 *
 * The three children run concurrently; each report is printed when its child is done,
 * so the order follows their durations. */
#include <stdio.h>
#include <stdlib.h>

#include <acio.h>

static void *run(void *arg)
{
    const char *cmd = arg;
    acio_subprocess_opts_t opts = {.stdout_mode = ACIO_SUBPROCESS_PIPE,
                                   .stderr_mode = ACIO_SUBPROCESS_PIPE};
    acio_process_t *proc;
    int rc = acio_create_subprocess_shell(&proc, cmd, &opts);
    if (rc < 0)
        return acio_raise(rc, "cannot start %s", cmd);
    void *out, *err;
    size_t out_len, err_len;
    rc = acio_process_communicate(proc, NULL, 0, &out, &out_len, &err, &err_len);
    if (rc < 0) {
        acio_process_free(proc);
        return acio_raise(rc, "communicate");
    }
    int returncode;
    acio_process_returncode(proc, &returncode);
    printf("['%s' exited with %d]\n", cmd, returncode);
    if (out_len)
        printf("[stdout]\n%s\n", (char *)out);
    if (err_len)
        printf("[stderr]\n%s\n", (char *)err);
    free(out);
    free(err);
    acio_process_free(proc);
    return NULL;
}

static void *main_task(void *arg)
{
    (void)arg;
    acio_call_t calls[] = {
        {run, "sleep 1; echo \"hello\"", NULL},
        {run, "sleep 0.5; ls /zzz", NULL},
        {run, "seq 3 | sort -r", NULL},
    };
    acio_future_t *all;
    int rc = acio_gather_calls(&all, calls, 3, NULL, 0, NULL, NULL, NULL);
    if (rc < 0)
        return acio_raise(rc, "gather");
    rc = acio_await(all, NULL);
    acio_future_unref(all);
    return rc < 0 ? acio_raise(rc, "a command failed") : NULL;
}

int main(void)
{
    setenv("LC_ALL", "C", 1); /* ls's message and sort's order must not depend on locale */
    int rc = acio_run(main_task, NULL, NULL);
    if (rc < 0) {
        fprintf(stderr, "error: %s\n", acio_strerror(rc));
        return 1;
    }
    return 0;
}
