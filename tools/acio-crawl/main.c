/* acio-crawl: the command-line crawler (docs/acio-crawl.md). Options in, seeds read,
 * the engine (src/crawl/crawl.h) run on an acio loop, a progress line while it runs,
 * a summary at the end. --demo crawls the built-in demo site (demo_site.h);
 * --serve-demo only serves it (for tests and for trying other crawlers on it). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <acio.h>

#include "crawl/crawl.h"
#include "demo_site.h"
#include "progress.h"
#include "redis_mode.h"

#define EXIT_USAGE 2

typedef struct {
    acio__crawl_opts_t o;
    const char **allow, **deny;
    size_t nallow, ndeny;
    char **seeds; /* URLs and input files, in order */
    size_t nseeds;
    bool quiet, json, fail_on_error, demo, serve_demo;
    int verbose;
    int demo_pages;
    const char *demo_log;
    const char *port_file;
    redis_mode_t redis; /* --redis (redis_mode.c) */
    int exit_code;
} cli_t;

static const char usage_text[] =
    "usage: acio-crawl [OPTIONS] [URL | FILE | -]...\n"
    "\n"
    "Fetch the given URLs (and, with --depth, the pages they link to on the same hosts),\n"
    "extract each HTML page's links, and write them as TSV (areq.py's format).\n"
    "Arguments with \"://\" are URLs; \"-\" reads URLs from stdin; anything else is a file\n"
    "of URLs, one per line (blank lines and lines starting with # are ignored).\n"
    "\n"
    "Output:\n"
    "  -o, --output FILE        TSV: source_url<TAB>parsed_url, one row per distinct link\n"
    "      --jsonl FILE         one JSON record per fetched URL (url, final_url, status,\n"
    "                           content_type, bytes, links, depth, time, error)\n"
    "      --warc FILE          archive every response as WARC/1.1 records (gzip per\n"
    "                           record; bodies of redirects and error pages left out)\n"
    "      --json               print the summary as one JSON object on stdout\n"
    "  -q, --quiet              no progress line, no per-URL log, no text summary\n"
    "  -v, --verbose            log every URL (repeat: nothing more yet)\n"
    "Crawl control:\n"
    "  -c, --concurrency N      requests in flight (default 100)\n"
    "      --per-host N         requests in flight per host (default 8, as Scrapy's; raise\n"
    "                           it to load one server of your own with all of -c)\n"
    "      --delay SECONDS      between two request starts on one host (default 0;\n"
    "                           robots.txt's Crawl-delay raises it)\n"
    "  -d, --depth N            follow links N levels from the seeds (default 0: seeds only)\n"
    "      --allow-domain D     also follow links to D and its subdomains (repeatable)\n"
    "      --deny-pattern RE    never fetch URLs matching this POSIX extended regex\n"
    "      --max-pages N        stop after starting the fetch of N URLs\n"
    "      --max-bytes N        skip bodies larger than N bytes (default 10485760)\n"
    "      --max-total-bytes N  stop after reading N body bytes in total\n"
    "      --max-time SECONDS   stop taking URLs after this long (the crawl's total\n"
    "                           time; fetches in flight finish)\n"
    "      --user-agent S       User-Agent (default acio-crawl/0.1); its product token\n"
    "                           selects the robots.txt group\n"
    "      --ignore-robots      do not fetch or honour robots.txt\n"
    "Failures:\n"
    "      --timeout SECONDS    per request, everything included (default 30)\n"
    "      --connect-timeout S  making a connection (default 10)\n"
    "      --read-timeout S     each wait for bytes (default 20)\n"
    "      --retries N          retries of connection errors, timeouts, 429, 500, 502, 503,\n"
    "                           504 (default 3), with exponential backoff and jitter\n"
    "      --backoff SECONDS    the first backoff (default 0.5; doubles each retry)\n"
    "      --max-backoff S      the longest backoff, Retry-After included (default 30)\n"
    "      --max-redirects N    longest redirect chain (default 10)\n"
    "      --fail-on-error      exit 1 if any URL failed\n"
    "Resume:\n"
    "      --state DIR          keep a journal in DIR; run again with the same options\n"
    "                           to resume a crawl that was stopped or killed\n"
    "Distributed (several processes, one crawl):\n"
    "      --redis URL          keep the frontier, seen-set and politeness state in Redis\n"
    "                           (redis://[[user]:password@]host[:port][/db], rediss://,\n"
    "                           unix://); run the same command anywhere to share the crawl\n"
    "      --redis-key NAME     the crawl's name: keys acio-crawl:{NAME}:* (default: derived\n"
    "                           from the seeds)\n"
    "      --redis-lease S      a URL whose process stopped renewing its lease S seconds ago\n"
    "                           (it died) is fetched by another (default 30)\n"
    "      --redis-reset        delete the crawl's keys first (start it again from scratch)\n"
    "Demo:\n"
    "      --demo               serve the built-in demo site on 127.0.0.1 and crawl it\n"
    "      --demo-pages N       pages of the demo site (default 3000)\n"
    "      --serve-demo         only serve the demo site, until SIGINT/SIGTERM\n"
    "      --demo-log FILE      with --serve-demo: one line per request received\n"
    "      --port-file FILE     with --serve-demo: write the port there once listening\n"
    "  -h, --help               this text\n"
    "      --version            the version\n"
    "\n"
    "Exit status: 0, also when some URLs failed (each is logged); 1 with --fail-on-error\n"
    "if any URL failed, or if an output could not be written; 2 for a usage error.\n";

enum {
    OPT_JSONL = 256,
    OPT_WARC,
    OPT_JSON,
    OPT_PER_HOST,
    OPT_DELAY,
    OPT_ALLOW,
    OPT_DENY,
    OPT_MAX_PAGES,
    OPT_MAX_BYTES,
    OPT_MAX_TOTAL,
    OPT_MAX_TIME,
    OPT_UA,
    OPT_IGNORE_ROBOTS,
    OPT_TIMEOUT,
    OPT_CONNECT_TIMEOUT,
    OPT_READ_TIMEOUT,
    OPT_RETRIES,
    OPT_BACKOFF,
    OPT_MAX_BACKOFF,
    OPT_MAX_REDIRECTS,
    OPT_FAIL_ON_ERROR,
    OPT_STATE,
    OPT_DEMO,
    OPT_DEMO_PAGES,
    OPT_SERVE_DEMO,
    OPT_DEMO_LOG,
    OPT_PORT_FILE,
    OPT_VERSION,
    OPT_REDIS,
    OPT_REDIS_KEY,
    OPT_REDIS_LEASE,
    OPT_REDIS_RESET,
};

static const struct option long_opts[] = {
    {"output", required_argument, NULL, 'o'},
    {"jsonl", required_argument, NULL, OPT_JSONL},
    {"warc", required_argument, NULL, OPT_WARC},
    {"json", no_argument, NULL, OPT_JSON},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"concurrency", required_argument, NULL, 'c'},
    {"per-host", required_argument, NULL, OPT_PER_HOST},
    {"delay", required_argument, NULL, OPT_DELAY},
    {"depth", required_argument, NULL, 'd'},
    {"allow-domain", required_argument, NULL, OPT_ALLOW},
    {"deny-pattern", required_argument, NULL, OPT_DENY},
    {"max-pages", required_argument, NULL, OPT_MAX_PAGES},
    {"max-bytes", required_argument, NULL, OPT_MAX_BYTES},
    {"max-total-bytes", required_argument, NULL, OPT_MAX_TOTAL},
    {"max-time", required_argument, NULL, OPT_MAX_TIME},
    {"user-agent", required_argument, NULL, OPT_UA},
    {"ignore-robots", no_argument, NULL, OPT_IGNORE_ROBOTS},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"read-timeout", required_argument, NULL, OPT_READ_TIMEOUT},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"backoff", required_argument, NULL, OPT_BACKOFF},
    {"max-backoff", required_argument, NULL, OPT_MAX_BACKOFF},
    {"max-redirects", required_argument, NULL, OPT_MAX_REDIRECTS},
    {"fail-on-error", no_argument, NULL, OPT_FAIL_ON_ERROR},
    {"state", required_argument, NULL, OPT_STATE},
    {"demo", no_argument, NULL, OPT_DEMO},
    {"demo-pages", required_argument, NULL, OPT_DEMO_PAGES},
    {"serve-demo", no_argument, NULL, OPT_SERVE_DEMO},
    {"demo-log", required_argument, NULL, OPT_DEMO_LOG},
    {"port-file", required_argument, NULL, OPT_PORT_FILE},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {"redis", required_argument, NULL, OPT_REDIS},
    {"redis-key", required_argument, NULL, OPT_REDIS_KEY},
    {"redis-lease", required_argument, NULL, OPT_REDIS_LEASE},
    {"redis-reset", no_argument, NULL, OPT_REDIS_RESET},
    {NULL, 0, NULL, 0},
};

static _Noreturn void usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "acio-crawl: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(acio-crawl --help lists the options)\n");
    exit(EXIT_USAGE);
}

static double num(const char *opt, const char *s, double min)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < min || v != v) {
        char buf[160];
        snprintf(buf, sizeof buf, "%s needs a number >= %g, not '%%s'", opt, min);
        usage_error(buf, s);
    }
    return v;
}

static void push(const char ***v, size_t *n, const char *s)
{
    const char **nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        usage_error("%s", "out of memory");
    nv[(*n)++] = s;
    *v = nv;
}

static void parse_args(cli_t *cli, int argc, char **argv)
{
    int ch;
    while ((ch = getopt_long(argc, argv, "o:qvc:d:h", long_opts, NULL)) != -1) {
        switch (ch) {
        case 'o':
            cli->o.tsv_path = optarg;
            break;
        case OPT_JSONL:
            cli->o.jsonl_path = optarg;
            break;
        case OPT_WARC:
            cli->o.warc_path = optarg;
            break;
        case OPT_JSON:
            cli->json = true;
            break;
        case 'q':
            cli->quiet = true;
            break;
        case 'v':
            cli->verbose++;
            break;
        case 'c':
            cli->o.concurrency = (size_t)num("-c", optarg, 1);
            break;
        case OPT_PER_HOST:
            cli->o.per_host = (size_t)num("--per-host", optarg, 1);
            break;
        case OPT_DELAY:
            cli->o.delay = num("--delay", optarg, 0);
            break;
        case 'd':
            cli->o.max_depth = (int)num("--depth", optarg, 0);
            break;
        case OPT_ALLOW:
            push(&cli->allow, &cli->nallow, optarg);
            break;
        case OPT_DENY:
            push(&cli->deny, &cli->ndeny, optarg);
            break;
        case OPT_MAX_PAGES:
            cli->o.max_pages = (uint64_t)num("--max-pages", optarg, 1);
            break;
        case OPT_MAX_BYTES:
            cli->o.max_bytes = (uint64_t)num("--max-bytes", optarg, 1);
            break;
        case OPT_MAX_TOTAL:
            cli->o.max_total = (uint64_t)num("--max-total-bytes", optarg, 1);
            break;
        case OPT_MAX_TIME:
            cli->o.max_time = num("--max-time", optarg, 0.001);
            break;
        case OPT_UA:
            cli->o.user_agent = optarg;
            break;
        case OPT_IGNORE_ROBOTS:
            cli->o.ignore_robots = true;
            break;
        case OPT_TIMEOUT:
            cli->o.timeout = num("--timeout", optarg, 0.001);
            break;
        case OPT_CONNECT_TIMEOUT:
            cli->o.connect_timeout = num("--connect-timeout", optarg, 0.001);
            break;
        case OPT_READ_TIMEOUT:
            cli->o.read_timeout = num("--read-timeout", optarg, 0.001);
            break;
        case OPT_RETRIES:
            cli->o.retries = (int)num("--retries", optarg, 0);
            break;
        case OPT_BACKOFF:
            cli->o.backoff = num("--backoff", optarg, 0.0001);
            break;
        case OPT_MAX_BACKOFF:
            cli->o.max_backoff = num("--max-backoff", optarg, 0.0001);
            break;
        case OPT_MAX_REDIRECTS:
            cli->o.max_redirects = (int)num("--max-redirects", optarg, 1);
            break;
        case OPT_FAIL_ON_ERROR:
            cli->fail_on_error = true;
            break;
        case OPT_STATE:
            cli->o.state_dir = optarg;
            break;
        case OPT_DEMO:
            cli->demo = true;
            break;
        case OPT_DEMO_PAGES:
            cli->demo_pages = (int)num("--demo-pages", optarg, 50);
            break;
        case OPT_SERVE_DEMO:
            cli->serve_demo = true;
            break;
        case OPT_DEMO_LOG:
            cli->demo_log = optarg;
            break;
        case OPT_PORT_FILE:
            cli->port_file = optarg;
            break;
        case OPT_REDIS:
            cli->redis.url = optarg;
            break;
        case OPT_REDIS_KEY:
            cli->redis.key = optarg;
            break;
        case OPT_REDIS_LEASE:
            cli->redis.lease = num("--redis-lease", optarg, 0.01);
            break;
        case OPT_REDIS_RESET:
            cli->redis.reset = true;
            break;
        case 'h':
            fputs(usage_text, stdout);
            exit(0);
        case OPT_VERSION:
            printf("acio-crawl 0.1 (acio %s)\n", acio_version_string());
            exit(0);
        default:
            fprintf(stderr, "(acio-crawl --help lists the options)\n");
            exit(EXIT_USAGE);
        }
    }
    cli->seeds = argv + optind;
    cli->nseeds = (size_t)(argc - optind);
    if (!cli->nseeds && !cli->demo && !cli->serve_demo)
        usage_error("%s", "no URLs given (give URLs, files of URLs, or - for stdin)");
    if ((cli->demo || cli->serve_demo) && cli->nseeds)
        usage_error("%s", "--demo and --serve-demo take no URLs");
    if (cli->redis.url && (cli->demo || cli->serve_demo))
        usage_error("%s", "--redis shares a crawl between processes; --demo's site lives in one "
                          "(serve it with --serve-demo and crawl it with --redis instead)");
    if (!cli->redis.url && (cli->redis.key || cli->redis.lease > 0 || cli->redis.reset))
        usage_error("%s", "--redis-key, --redis-lease and --redis-reset need --redis URL");
}

/* ---- seeds ---- */

static void add_seed(acio__crawl_t *c, const char *url, const char *where, size_t line,
                     size_t *added, bool quiet)
{
    int rc = acio__crawl_add_seed(c, url);
    if (rc == -ENOMEM) {
        fprintf(stderr, "acio-crawl: out of memory reading the seeds\n");
        exit(1);
    }
    if (rc < 0) {
        if (!quiet) {
            if (where)
                fprintf(stderr, "acio-crawl: %s:%zu: skipping malformed URL '%s': %s\n", where,
                        line, url, acio_strerror(rc));
            else
                fprintf(stderr, "acio-crawl: skipping malformed URL '%s': %s\n", url,
                        acio_strerror(rc));
        }
        return;
    }
    (*added)++;
}

/* Read URLs from path ("-": stdin). Returns false if it cannot be read. */
static bool read_seed_file(acio__crawl_t *c, const char *path, size_t *added, bool quiet)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        fprintf(stderr, "acio-crawl: cannot read URL file %s: %s\n", path, strerror(errno));
        return false;
    }
    char *line = NULL;
    size_t cap = 0, no = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        no++;
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t len = strlen(s);
        while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ' ||
                       s[len - 1] == '\t'))
            s[--len] = '\0';
        if (!len || s[0] == '#')
            continue;
        add_seed(c, s, strcmp(path, "-") == 0 ? "stdin" : path, no, added, quiet);
    }
    bool ok = !ferror(f);
    if (!ok)
        fprintf(stderr, "acio-crawl: reading %s: %s\n", path, strerror(errno));
    free(line);
    if (f != stdin)
        fclose(f);
    return ok;
}

/* ---- the run ---- */

static void print_summary(cli_t *cli, acio__crawl_t *c)
{
    acio__crawl_stats_t st;
    acio__crawl_get_stats(c, &st);
    if (!cli->quiet)
        acio__crawl_stats_print(&st, &cli->o, stderr);
    if (cli->json) {
        char *s = acio__crawl_stats_json(&st, &cli->o);
        if (s) {
            puts(s);
            free(s);
        }
    }
    if (cli->fail_on_error && st.failed && cli->exit_code == 0)
        cli->exit_code = 1;
}

static void demo_check(cli_t *cli, acio__crawl_t *c)
{
    acio__crawl_stats_t st;
    acio__crawl_get_stats(c, &st);
    demo_expect_t e;
    demo_site_expect(cli->demo_pages, cli->o.max_depth, cli->o.retries, cli->o.ignore_robots,
                     cli->o.max_redirects, &e);
    bool same = st.fetched == e.fetched && st.ok == e.ok && st.parsed == e.parsed &&
                st.redirects == e.redirects && st.robots_disallowed == e.robots_disallowed &&
                st.links == e.links && st.failed == e.failed && st.discovered == e.discovered;
    if (!cli->quiet) {
        fprintf(stderr,
                "demo site manifest expects: %llu pages fetched, %llu failed (%llu http_404, "
                "%llu http_500, %llu too many redirects), %llu redirects, %llu disallowed by "
                "robots.txt, %llu links: %s\n",
                (unsigned long long)e.fetched, (unsigned long long)e.failed,
                (unsigned long long)e.http_404, (unsigned long long)e.http_500,
                (unsigned long long)e.too_many_redirects, (unsigned long long)e.redirects,
                (unsigned long long)e.robots_disallowed, (unsigned long long)e.links,
                same ? "the crawl matches" : "THE CRAWL DIFFERS");
    }
    if (!same)
        cli->exit_code = 1;
}

static void *main_task(void *arg)
{
    cli_t *cli = arg;
    demo_site_t *site = NULL;
    char seed[64];
    FILE *demo_log = NULL;
    if (cli->demo || cli->serve_demo) {
        if (cli->demo_log && !(demo_log = fopen(cli->demo_log, "w"))) {
            fprintf(stderr, "acio-crawl: cannot write %s: %s\n", cli->demo_log, strerror(errno));
            cli->exit_code = EXIT_USAGE;
            return NULL;
        }
        int rc = demo_site_start(cli->demo_pages, demo_log, &site);
        if (rc < 0) {
            fprintf(stderr, "acio-crawl: cannot start the demo site: %s\n", acio_strerror(rc));
            cli->exit_code = 1;
            return NULL;
        }
        snprintf(seed, sizeof seed, "http://127.0.0.1:%d/", demo_site_port(site));
        if (cli->serve_demo) {
            if (cli->port_file) {
                FILE *pf = fopen(cli->port_file, "w");
                if (pf) {
                    fprintf(pf, "%d\n", demo_site_port(site));
                    fclose(pf);
                }
            }
            printf("serving the demo site (%d pages) on %s\n", cli->demo_pages, seed);
            fflush(stdout);
            /* Until SIGINT or SIGTERM: acio_run cancels this task on SIGINT. */
            while (acio_sleep(3600) == 0)
                ;
            demo_site_stop(site);
            if (demo_log)
                fclose(demo_log);
            return NULL;
        }
        if (!cli->quiet)
            fprintf(stderr, "demo site: %d pages on %s\n", cli->demo_pages, seed);
    }
    cli->o.allow_domains = cli->allow;
    cli->o.nallow = cli->nallow;
    cli->o.deny_patterns = cli->deny;
    cli->o.ndeny = cli->ndeny;
    cli->o.log = stderr;
    cli->o.verbosity = cli->quiet ? 0 : 1 + (cli->verbose > 0);
    bool tty = !cli->quiet && isatty(STDERR_FILENO);
    cli->o.log_clears_line = tty;
    acio__crawl_t *c = NULL;
    const char *msg;
    if (cli->redis.url) {
        bool usage = false;
        if (redis_mode_open(&cli->redis, &cli->o, cli->seeds, cli->nseeds, &usage) < 0) {
            cli->exit_code = usage ? EXIT_USAGE : 1;
            goto out;
        }
    }
    int rc = acio__crawl_new(&c, &cli->o, &msg);
    if (rc < 0) {
        fprintf(stderr, "acio-crawl: %s\n", msg);
        cli->exit_code = EXIT_USAGE;
        goto out;
    }
    size_t added = 0;
    if (site)
        add_seed(c, seed, NULL, 0, &added, cli->quiet);
    for (size_t i = 0; i < cli->nseeds; i++) {
        const char *a = cli->seeds[i];
        if (strstr(a, "://")) {
            add_seed(c, a, NULL, 0, &added, cli->quiet);
        } else if (!read_seed_file(c, a, &added, cli->quiet)) {
            cli->exit_code = EXIT_USAGE;
            goto out;
        }
    }
    acio__crawl_stats_t st0;
    acio__crawl_get_stats(c, &st0);
    if (!added && !st0.resumed_queued && !cli->quiet)
        fprintf(stderr, "acio-crawl: no valid URL to crawl\n");
    progress_t *pg = NULL;
    if (tty)
        progress_start(&pg, c);
    rc = acio__crawl_run(c);
    progress_stop(pg);
    if (rc < 0 && rc != -ECANCELED) {
        fprintf(stderr, "acio-crawl: %s\n", acio__crawl_error(c));
        cli->exit_code = 1;
    }
    print_summary(cli, c);
    if (cli->redis.url) {
        acio__crawl_stats_t st;
        acio__crawl_get_stats(c, &st);
        redis_mode_finish(&cli->redis, &st, cli->quiet);
    }
    if (site)
        demo_check(cli, c);
out:
    acio__crawl_free(c);
    demo_site_stop(site);
    if (demo_log)
        fclose(demo_log);
    return NULL;
}

int main(int argc, char **argv)
{
    cli_t cli = {.demo_pages = 3000};
    cli.o.retries = 3;
    parse_args(&cli, argc, argv);
    signal(SIGPIPE, SIG_IGN);
    static char demo_tsv[4096];
    if (cli.demo) {
        /* The demo's defaults: the whole site, quick retries, and a TSV it names. */
        if (!cli.o.max_depth)
            cli.o.max_depth = 1000;
        if (!cli.o.backoff)
            cli.o.backoff = 0.01;
        if (!cli.o.tsv_path) {
            const char *tmp = getenv("TMPDIR");
            snprintf(demo_tsv, sizeof demo_tsv, "%s/acio-crawl-demo-XXXXXX",
                     tmp && *tmp ? tmp : "/tmp");
            if (!mkdtemp(demo_tsv)) {
                fprintf(stderr, "acio-crawl: cannot create a directory for the demo's TSV: %s\n",
                        strerror(errno));
                return 1;
            }
            strncat(demo_tsv, "/links.tsv", sizeof demo_tsv - strlen(demo_tsv) - 1);
            cli.o.tsv_path = demo_tsv;
        }
    }
    if (!cli.o.max_redirects)
        cli.o.max_redirects = 10;
    int rc = acio_run(main_task, &cli, NULL);
    if (rc == -EINTR) /* SIGINT: the crawl stopped and reported; the server stopped */
        return cli.serve_demo ? 0 : 130;
    if (rc < 0 && rc != -ECANCELED) {
        fprintf(stderr, "acio-crawl: %s\n", acio_strerror(rc));
        return 1;
    }
    free(cli.allow);
    free(cli.deny);
    return cli.exit_code;
}
