/* acio against a non-acio peer: Python's asyncio (python3 on PATH). The seed 003 echo
 * client and server run as Python against acio's streams, and the ported examples
 * (examples/tcp_echo_server, examples/tcp_echo_client) against Python and against each
 * other. Child output is read through acio_open_pipe_reader, which tests pipe streams
 * on the way; children are reaped with a bounded wait. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acio.h"
#include "support/check.h"
#include "support/port.h"
#include "support/rc.h"

static const char *PY_CLIENT =
    "import asyncio, sys\n"
    "async def tcp_echo_client(message):\n"
    "    reader, writer = await asyncio.open_connection('127.0.0.1', int(sys.argv[1]))\n"
    "    print(f'Send: {message!r}')\n"
    "    writer.write(message.encode())\n"
    "    await writer.drain()\n"
    "    data = await reader.read(100)\n"
    "    print(f'Received: {data.decode()!r}')\n"
    "    print('Close the connection')\n"
    "    writer.close()\n"
    "    await writer.wait_closed()\n"
    "asyncio.run(tcp_echo_client('Hello World!'))\n";

static const char *PY_SERVER =
    "import asyncio, sys\n"
    "async def handle_echo(reader, writer):\n"
    "    data = await reader.read(100)\n"
    "    print(f'Received {data.decode()!r}', flush=True)\n"
    "    writer.write(data)\n"
    "    await writer.drain()\n"
    "    writer.close()\n"
    "    await writer.wait_closed()\n"
    "    done.set()\n"
    "async def main():\n"
    "    global done\n"
    "    done = asyncio.Event()\n"
    "    server = await asyncio.start_server(handle_echo, '127.0.0.1', 0)\n"
    "    print(server.sockets[0].getsockname()[1], flush=True)\n"
    "    async with server:\n"
    "        await done.wait()\n"
    "asyncio.run(main())\n";

/* Start argv with stdout on a pipe; returns the pid, *out the read end. */
static pid_t spawn(char *const argv[], int *out)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    *out = p[0];
    return pid;
}

/* Reap pid without blocking the loop for long: poll waitpid, bounded. */
static int reap(pid_t pid)
{
    int status = 0;
    for (int i = 0; i < 20000; i++) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        OK(acio_sleep(0.001));
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static char example_dir[PATH_MAX];

static void find_examples(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    snprintf(example_dir, sizeof(example_dir), "%s/../examples", dirname(exe));
}

static void run(acio_coro_fn fn)
{
    find_examples();
    run_ok(fn, NULL);
}

static void *seed_handler(acio_stream_reader_t *r, acio_stream_writer_t *w, void *arg)
{
    int *served = arg;
    char data[100];
    ssize_t n = acio_stream_reader_read(r, data, sizeof(data));
    if (n > 0) {
        OK(acio_stream_writer_write(w, data, (size_t)n));
        OK(acio_stream_writer_drain(w));
    }
    acio_stream_writer_close(w);
    OK(acio_stream_writer_wait_closed(w));
    (*served)++;
    return NULL;
}

static void *acio_server_python_client(void *arg)
{
    (void)arg;
    int served = 0;
    acio_server_t *srv;
    int rc = acio_start_server(&srv, seed_handler, &served, "127.0.0.1", 0, 0, NULL);
    CHECK(rc == 0, "start_server");
    char port[16];
    snprintf(port, sizeof(port), "%d", acio_server_port(srv));
    char *argv[] = {"python3", "-c", (char *)PY_CLIENT, port, NULL};
    int out;
    pid_t pid = spawn(argv, &out);
    CHECK(pid > 0, "spawn python3");
    acio_stream_reader_t *r;
    rc = acio_open_pipe_reader(&r, out, 0);
    CHECK(rc == 0, "open_pipe_reader: %s", acio_strerror(rc));
    void *all;
    size_t len;
    rc = acio_stream_reader_read_all(r, &all, &len);
    CHECK(rc == 0, "read python's output");
    const char *want = "Send: 'Hello World!'\nReceived: 'Hello World!'\nClose the connection\n";
    CHECK(strcmp(all, want) == 0, "python client printed:\n%s", (char *)all);
    free(all);
    acio_stream_reader_unref(r);
    CHECK(reap(pid) == 0, "python exit status");
    CHECK(served == 1, "served %d", served);
    acio_server_close(srv);
    OK(acio_server_wait_closed(srv));
    acio_server_free(srv);
    return NULL;
}

Test(stream_python, acio_server_python_client, .timeout = 120)
{
    run(acio_server_python_client);
}

static void *python_server_acio_client(void *arg)
{
    (void)arg;
    char *argv[] = {"python3", "-c", (char *)PY_SERVER, NULL};
    int out;
    pid_t pid = spawn(argv, &out);
    CHECK(pid > 0, "spawn python3");
    acio_stream_reader_t *pr;
    OK(acio_open_pipe_reader(&pr, out, 0));
    char line[64];
    ssize_t n = acio_stream_reader_readline(pr, line, sizeof(line) - 1);
    CHECK(n > 1, "python server port line: %zd", n);
    line[n] = '\0';
    int port = atoi(line);
    acio_stream_reader_t *r;
    acio_stream_writer_t *w;
    int rc = acio_open_connection(&r, &w, "127.0.0.1", port, 0, NULL);
    CHECK(rc == 0, "open_connection to python: %s", acio_strerror(rc));
    OK(acio_stream_writer_write(w, "Hello World!", 12));
    OK(acio_stream_writer_drain(w));
    char data[100];
    n = acio_stream_reader_read(r, data, sizeof(data));
    CHECK(n == 12 && memcmp(data, "Hello World!", 12) == 0, "echo from python: %zd", n);
    n = acio_stream_reader_read(r, data, sizeof(data));
    CHECK(n == 0, "python closed: %zd", n);
    acio_stream_writer_close(w);
    OK(acio_stream_writer_wait_closed(w));
    n = acio_stream_reader_readline(pr, line, sizeof(line) - 1);
    CHECK(n > 0 && strncmp(line, "Received 'Hello World!'", 23) == 0, "python saw the message");
    acio_stream_reader_unref(pr);
    acio_stream_reader_unref(r);
    acio_stream_writer_unref(w);
    CHECK(reap(pid) == 0, "python exit status");
    return NULL;
}

Test(stream_python, python_server_acio_client, .timeout = 120)
{
    run(python_server_acio_client);
}

/* The ported seed server example, with the seed's Python client and with the ported
 * client example. */
static void *examples_main(void *arg)
{
    (void)arg;
    char server[PATH_MAX + 32], client[PATH_MAX + 32], port[16];
    snprintf(server, sizeof(server), "%s/tcp_echo_server", example_dir);
    snprintf(client, sizeof(client), "%s/tcp_echo_client", example_dir);
    snprintf(port, sizeof(port), "%d", loopback_free_port());
    CHECK(access(server, X_OK) == 0 && access(client, X_OK) == 0,
          "build the examples first: %s, %s", server, client);
    char *sargv[] = {server, port, "127.0.0.1", NULL};
    int sout = -1;
    pid_t spid = spawn(sargv, &sout);
    CHECK(spid > 0, "spawn %s", server);
    acio_stream_reader_t *sr;
    OK(acio_open_pipe_reader(&sr, sout, 0));
    char line[256];
    ssize_t n = acio_stream_reader_readline(sr, line, sizeof(line) - 1);
    CHECK(n > 0, "server banner: %zd", n);
    line[n] = '\0';
    char want[128];
    snprintf(want, sizeof(want), "Serving on ('127.0.0.1', %s)\n", port);
    CHECK(strcmp(line, want) == 0, "banner: %s", line);
    for (int round = 0; round < 2; round++) {
        char *pargv[] = {"python3", "-c", (char *)PY_CLIENT, port, NULL};
        char *cargv[] = {client, port, "127.0.0.1", NULL};
        int cout = -1;
        pid_t cpid = spawn(round == 0 ? pargv : cargv, &cout);
        acio_stream_reader_t *cr;
        OK(acio_open_pipe_reader(&cr, cout, 0));
        void *all;
        size_t len;
        int rc = acio_stream_reader_read_all(cr, &all, &len);
        CHECK(rc == 0, "client output");
        CHECK(strcmp(all,
                     "Send: 'Hello World!'\nReceived: 'Hello World!'\nClose the connection\n") == 0,
              "%s client printed:\n%s", round == 0 ? "python" : "acio", (char *)all);
        free(all);
        acio_stream_reader_unref(cr);
        CHECK(reap(cpid) == 0, "client exit");
        /* The server prints three lines per connection, like the seed. */
        n = acio_stream_reader_readline(sr, line, sizeof(line) - 1);
        line[n > 0 ? n : 0] = '\0';
        CHECK(strncmp(line, "Received 'Hello World!' from ('127.0.0.1', ", 42) == 0, "server: %s",
              line);
        n = acio_stream_reader_readline(sr, line, sizeof(line) - 1);
        line[n > 0 ? n : 0] = '\0';
        CHECK(strcmp(line, "Send: 'Hello World!'\n") == 0, "server: %s", line);
        n = acio_stream_reader_readline(sr, line, sizeof(line) - 1);
        line[n > 0 ? n : 0] = '\0';
        CHECK(strcmp(line, "Close the connection\n") == 0, "server: %s", line);
    }
    /* Ctrl-C: the server cancels its main task and exits cleanly, as asyncio.run does. */
    kill(spid, SIGINT);
    void *rest;
    size_t rl;
    OK(acio_stream_reader_read_all(sr, &rest, &rl));
    free(rest);
    acio_stream_reader_unref(sr);
    int st = reap(spid);
    CHECK(st == 0, "server exit status after SIGINT: %d", st);
    return NULL;
}

Test(stream_python, seed_examples_with_python_and_each_other, .timeout = 120)
{
    run(examples_main);
}
