/* Seed 003 §3.3, a child process whose first line of output we read, then wait for:
 *
 *     async def get_date():
 *         code = 'import datetime; print(datetime.datetime.now())'
 *         # Create the subprocess; redirect the standard output into a pipe.
 *         proc = await asyncio.create_subprocess_exec(
 *             sys.executable, '-c', code,
 *             stdout=asyncio.subprocess.PIPE)
 *         # Read one line of output.
 *         data = await proc.stdout.readline()
 *         line = data.decode().rstrip()
 *         # Wait for the subprocess exit.
 *         await proc.wait()
 *         return line
 *
 *     date = asyncio.run(get_date())
 *     print(f"Current date: {date}")
 *
 * C has no sys.executable; the child is python3 from PATH. So that the tests can compare
 * the output, the child prints a fixed moment (the Unix epoch, in UTC) unless the program
 * is run with --now, which runs the seed's code unchanged. */
#include <stdio.h>
#include <string.h>

#include <acio.h>

static const char *code = "import datetime; "
                          "print(datetime.datetime.fromtimestamp(0, datetime.timezone.utc))";

static void *get_date(void *arg)
{
    char *line = arg;
    /* Create the subprocess; redirect the standard output into a pipe. */
    acio_subprocess_opts_t opts = {.stdout_mode = ACIO_SUBPROCESS_PIPE};
    acio_process_t *proc;
    int rc = acio_create_subprocess_execl(&proc, &opts, "python3", "-c", code, NULL);
    if (rc < 0)
        return acio_raise(rc, "cannot start python3");

    /* Read one line of output. */
    ssize_t n = acio_stream_reader_readline(acio_process_stdout(proc), line, 127);
    if (n < 0) {
        acio_process_free(proc);
        return acio_raise((int)n, "readline");
    }
    line[n] = '\0';
    line[strcspn(line, "\r\n")] = '\0'; /* .rstrip() */

    /* Wait for the subprocess exit. */
    rc = acio_process_wait(proc, NULL);
    acio_process_free(proc);
    return rc < 0 ? acio_raise(rc, "wait") : line;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--now") == 0)
        code = "import datetime; print(datetime.datetime.now())";
    char line[128];
    char *date;
    char *msg = NULL;
    int rc = acio_run_ex(get_date, line, (void **)&date, &msg);
    if (rc < 0) {
        fprintf(stderr, "error: %s (%s)\n", msg ? msg : "", acio_strerror(rc));
        return 1;
    }
    printf("Current date: %s\n", date);
    return 0;
}
