/* options: argv to struct options, with one-line errors. */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "journal.h"
#include "match.h"

static const char usage_text[] =
    "Usage: nexus-mock [--fixtures PATH]... [--host ADDR] [--port N] "
    "[--check]\n"
    "                  [--max-problems N]\n"
    "                  [--log-format text|json] [--quiet] [--admin]\n"
    "                  [--admin-token TOKEN] [--journal-max-bytes BYTES]\n"
    "                  [--journal-body-max BYTES]\n"
    "                  [--max-body BYTES] [--max-headers BYTES] [--threads N]\n"
    "                  [--max-connections N] [--max-connections-per-ip N]\n"
    "                  [--header-timeout S] [--body-timeout S] "
    "[--idle-timeout S]\n"
    "                  [--shutdown-grace S]\n"
    "                  [--max-gen-nodes N] [--max-gen-bytes BYTES]\n"
    "                  [--max-schema-depth N] [--regex-match-limit N]\n"
    "                  [--max-endless-bytes BYTES]\n"
    "                  [--watch|--no-watch]\n"
    "                  [--watch-delay MS] [--version] [--help]\n"
    "\n"
    "A deterministic mock of the AI Nexus (OpenAI-compatible) chat API.\n"
    "\n"
    "  --fixtures PATH    YAML fixture file, or a directory of them, to\n"
    "                     serve; repeat it to extend one with the next\n"
    "                     (default: the embedded fixtures/ai-nexus.yaml)\n"
    "  --host ADDR        address to bind (default 127.0.0.1)\n"
    "  --port N           port to bind, 0 for any free port (default 8080)\n"
    "  --check            validate the fixtures, print a summary, and exit\n"
    "                     (1 with every problem on stderr)\n"
    "  --max-problems N   problems --check, a refused start or reload list\n"
    "                     at most; the rest are counted (default 100)\n"
    "  --log-format F     request logs on stderr as text or json\n"
    "  --quiet            no request logs (errors still print)\n"
    "  --admin            serve the control API under /_nexus/ (clock,\n"
    "                     state, reset, request journal, client retries)\n"
    "  --admin-token TOKEN  what every /_nexus/ request must carry; needed\n"
    "                     with --admin on a host that is not loopback\n"
    "  --journal-max-bytes BYTES  memory the request journal keeps, oldest\n"
    "                     entries dropped first (default 16777216)\n"
    "  --journal-body-max BYTES  bytes of each request body the journal\n"
    "                     keeps (default 8192)\n"
    "  --max-body BYTES   largest request body before 413 (default "
    "4194304)\n"
    "  --max-headers BYTES  request line and headers before 431, and each\n"
    "                     connection's memory (default 8192)\n"
    "  --threads N        worker threads (default: one per online core)\n"
    "  --max-connections N  concurrent connections; more are refused at\n"
    "                     once (default 10000)\n"
    "  --max-connections-per-ip N  concurrent connections from one client\n"
    "                     address, 0 for no cap (default: none on a\n"
    "                     loopback address, else a tenth of\n"
    "                     --max-connections)\n"
    "  --header-timeout S seconds for a request's line and headers\n"
    "                     (default 30)\n"
    "  --body-timeout S   seconds for a request's body (default 60)\n"
    "  --idle-timeout S   seconds a connection may send and read nothing\n"
    "                     (default 120)\n"
    "  --shutdown-grace S seconds in-flight requests get to finish after\n"
    "                     SIGTERM before they are cut (default 2)\n"
    "  --max-gen-nodes N  JSON values one answer may be made of, all\n"
    "                     choices together (default 8192)\n"
    "  --max-gen-bytes BYTES  bytes of content, tool arguments and log\n"
    "                     probabilities per answer (default 262144)\n"
    "  --max-schema-depth N  levels a schema is followed, $ref included\n"
    "                     (default 32)\n"
    "  --regex-match-limit N  backtracking steps a fixture's regex may take\n"
    "                     on one text before it counts as no match\n"
    "                     (default 1000000)\n"
    "  --max-endless-bytes BYTES  bytes a fault's endless repetition sends\n"
    "                     in one answer before the body ends (default\n"
    "                     67108864)\n"
    "  --watch, --no-watch  reload the fixtures when a --fixtures file\n"
    "                     changes (default: --watch); SIGHUP reloads too\n"
    "  --watch-delay MS   quiet time after a change before the reload\n"
    "                     (default 200)\n"
    "  --version          print the version and exit\n"
    "  --help             print this help and exit\n"
    "\n"
    "When ready it prints 'nexus-mock listening on http://HOST:PORT' on\n"
    "stdout. SIGINT or SIGTERM stops it gracefully; SIGHUP reloads the\n"
    "fixtures.\n";

/* Parses a decimal unsigned integer in [min, max]. Returns 0 or -1. */
static int parse_uint(const char *s, unsigned long long min,
                      unsigned long long max, unsigned long long *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* The options that take a number: their ranges, and what the number
 * counts (for the error message). */
enum num_opt {
    NUM_PORT,
    NUM_MAX_BODY,
    NUM_THREADS,
    NUM_MAX_CONNECTIONS,
    NUM_MAX_CONNECTIONS_PER_IP,
    NUM_MAX_HEADERS,
    NUM_HEADER_TIMEOUT,
    NUM_BODY_TIMEOUT,
    NUM_IDLE_TIMEOUT,
    NUM_SHUTDOWN_GRACE,
    NUM_MAX_GEN_NODES,
    NUM_MAX_GEN_BYTES,
    NUM_MAX_SCHEMA_DEPTH,
    NUM_REGEX_MATCH_LIMIT,
    NUM_JOURNAL_MAX_BYTES,
    NUM_JOURNAL_BODY_MAX,
    NUM_WATCH_DELAY,
    NUM_MAX_ENDLESS_BYTES,
    NUM_MAX_PROBLEMS,
    NUM_OPTS
};

static const struct {
    const char *name;
    const char *what;
    unsigned long long min, max;
} num_opts[NUM_OPTS] = {
    [NUM_PORT] = {"--port", "a number", 0, 65535},
    [NUM_MAX_BODY] = {"--max-body", "a byte count", 1, 1ull << 34},
    [NUM_THREADS] = {"--threads", "a number", 1, 256},
    [NUM_MAX_CONNECTIONS] = {"--max-connections", "a number", 1, 1000000},
    [NUM_MAX_CONNECTIONS_PER_IP] = {"--max-connections-per-ip", "a number", 0,
                                    1000000},
    [NUM_MAX_HEADERS] = {"--max-headers", "a byte count", 4096, 1ull << 24},
    [NUM_HEADER_TIMEOUT] = {"--header-timeout", "a number of seconds", 1,
                            86400},
    [NUM_BODY_TIMEOUT] = {"--body-timeout", "a number of seconds", 1, 86400},
    [NUM_IDLE_TIMEOUT] = {"--idle-timeout", "a number of seconds", 1, 86400},
    [NUM_SHUTDOWN_GRACE] = {"--shutdown-grace", "a number of seconds", 0, 3600},
    [NUM_MAX_GEN_NODES] = {"--max-gen-nodes", "a number", 1000, 100000000},
    [NUM_MAX_GEN_BYTES] = {"--max-gen-bytes", "a byte count", 4096, 1ull << 32},
    [NUM_MAX_SCHEMA_DEPTH] = {"--max-schema-depth", "a number", 1, 256},
    [NUM_REGEX_MATCH_LIMIT] = {"--regex-match-limit", "a number", 1000,
                               1000000000},
    [NUM_JOURNAL_MAX_BYTES] = {"--journal-max-bytes", "a byte count", 65536,
                               1ull << 36},
    [NUM_JOURNAL_BODY_MAX] = {"--journal-body-max", "a byte count", 0,
                              1ull << 26},
    [NUM_WATCH_DELAY] = {"--watch-delay", "a number of milliseconds", 1, 60000},
    [NUM_MAX_ENDLESS_BYTES] = {"--max-endless-bytes", "a byte count", 0,
                               1ull << 40},
    [NUM_MAX_PROBLEMS] = {"--max-problems", "a number", 1, 1000000},
};

/* Stores v (in range) as the value of numeric option k. */
static void num_set(struct options *o, enum num_opt k, unsigned long long v)
{
    switch (k) {
    case NUM_PORT:
        o->port = (unsigned)v;
        break;
    case NUM_MAX_BODY:
        o->max_body = (size_t)v;
        break;
    case NUM_THREADS:
        o->threads = (unsigned)v;
        break;
    case NUM_MAX_CONNECTIONS:
        o->max_connections = (unsigned)v;
        break;
    case NUM_MAX_CONNECTIONS_PER_IP:
        o->max_connections_per_ip = (unsigned)v;
        break;
    case NUM_MAX_HEADERS:
        o->max_headers = (size_t)v;
        break;
    case NUM_HEADER_TIMEOUT:
        o->header_timeout = (unsigned)v;
        break;
    case NUM_BODY_TIMEOUT:
        o->body_timeout = (unsigned)v;
        break;
    case NUM_IDLE_TIMEOUT:
        o->idle_timeout = (unsigned)v;
        break;
    case NUM_SHUTDOWN_GRACE:
        o->shutdown_grace = (unsigned)v;
        break;
    case NUM_MAX_GEN_NODES:
        o->gen.max_nodes = v;
        break;
    case NUM_MAX_GEN_BYTES:
        o->gen.max_bytes = v;
        break;
    case NUM_MAX_SCHEMA_DEPTH:
        o->gen.max_depth = (unsigned)v;
        break;
    case NUM_REGEX_MATCH_LIMIT:
        o->regex_match_limit = (unsigned)v;
        break;
    case NUM_JOURNAL_MAX_BYTES:
        o->journal_max_bytes = (size_t)v;
        break;
    case NUM_JOURNAL_BODY_MAX:
        o->journal_body_max = (size_t)v;
        break;
    case NUM_WATCH_DELAY:
        o->watch_delay_ms = (unsigned)v;
        break;
    case NUM_MAX_ENDLESS_BYTES:
        o->max_endless_bytes = v;
        break;
    case NUM_MAX_PROBLEMS:
        o->max_problems = (size_t)v;
        break;
    case NUM_OPTS:
        break;
    }
}

int options_parse_uint(const char *s, unsigned long long min,
                       unsigned long long max, unsigned long long *out)
{
    return parse_uint(s, min, max, out);
}

/* Takes the value of --name VALUE or --name=VALUE; NULL if missing. */
static const char *take_value(int argc, char **argv, int *i, const char *arg,
                              const char *name)
{
    size_t n = strlen(name);

    if (strncmp(arg, name, n) == 0 && arg[n] == '=')
        return arg + n + 1;
    if (*i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

/* Does arg name the option, as "--name" or "--name=..."? */
static int is_opt(const char *arg, const char *name)
{
    size_t n = strlen(name);

    return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

enum options_result options_parse(int argc, char **argv, struct options *o,
                                  FILE *out, char *cause, size_t causelen)
{
    unsigned long long v;
    const char *val, *cur = "";
    int i;

    memset(o, 0, sizeof(*o));
    o->host = "127.0.0.1";
    o->port = 8080;
    o->log_format = LOG_TEXT;
    o->max_body = OPTIONS_DEFAULT_MAX_BODY;
    o->threads = OPTIONS_THREADS_AUTO;
    o->max_connections = 10000;
    o->max_connections_per_ip = OPTIONS_PER_IP_AUTO;
    o->max_headers = OPTIONS_DEFAULT_MAX_HEADERS;
    o->header_timeout = OPTIONS_DEFAULT_HEADER_TIMEOUT;
    o->body_timeout = OPTIONS_DEFAULT_BODY_TIMEOUT;
    o->idle_timeout = OPTIONS_DEFAULT_IDLE_TIMEOUT;
    o->shutdown_grace = OPTIONS_DEFAULT_SHUTDOWN_GRACE;
    o->gen = budget_defaults;
    o->regex_match_limit = MATCH_REGEX_LIMIT_DEFAULT;
    o->journal_max_bytes = JOURNAL_DEFAULT_MAX_BYTES;
    o->journal_body_max = JOURNAL_DEFAULT_BODY_MAX;
    o->watch = true;
    o->watch_delay_ms = OPTIONS_DEFAULT_WATCH_DELAY_MS;
    o->max_endless_bytes = OPTIONS_DEFAULT_MAX_ENDLESS_BYTES;
    o->max_problems = FX_MAX_PROBLEMS;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        unsigned k;

        cur = a;
        for (k = 0; k < NUM_OPTS && !is_opt(a, num_opts[k].name); k++)
            ;
        if (k < NUM_OPTS) {
            val = take_value(argc, argv, &i, a, num_opts[k].name);
            if (parse_uint(val, num_opts[k].min, num_opts[k].max, &v) != 0) {
                snprintf(cause, causelen, "%s needs %s from %llu to %llu",
                         num_opts[k].name, num_opts[k].what, num_opts[k].min,
                         num_opts[k].max);
                return OPTIONS_ERROR;
            }
            num_set(o, (enum num_opt)k, v);
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, out);
            return OPTIONS_EXIT;
        } else if (strcmp(a, "--version") == 0) {
            fprintf(out, "nexus-mock %s\n", NEXUS_VERSION);
            return OPTIONS_EXIT;
        } else if (strcmp(a, "--check") == 0) {
            o->check = true;
        } else if (strcmp(a, "--quiet") == 0) {
            o->quiet = true;
        } else if (strcmp(a, "--admin") == 0) {
            o->admin = true;
        } else if (strcmp(a, "--watch") == 0) {
            o->watch = true;
        } else if (strcmp(a, "--no-watch") == 0) {
            o->watch = false;
        } else if (is_opt(a, "--fixtures")) {
            val = take_value(argc, argv, &i, a, "--fixtures");
            if (val == NULL || val[0] == '\0')
                goto missing;
            if (o->nfixtures == OPTIONS_MAX_FIXTURES) {
                snprintf(cause, causelen,
                         "--fixtures may be given at most %d times (a "
                         "directory counts once)",
                         OPTIONS_MAX_FIXTURES);
                return OPTIONS_ERROR;
            }
            o->fixtures[o->nfixtures++] = val;
        } else if (is_opt(a, "--admin-token")) {
            if ((o->admin_token =
                     take_value(argc, argv, &i, a, "--admin-token")) == NULL ||
                o->admin_token[0] == '\0')
                goto missing;
        } else if (is_opt(a, "--host")) {
            if ((o->host = take_value(argc, argv, &i, a, "--host")) == NULL ||
                o->host[0] == '\0')
                goto missing;
        } else if (is_opt(a, "--log-format")) {
            val = take_value(argc, argv, &i, a, "--log-format");
            if (val != NULL && strcmp(val, "text") == 0)
                o->log_format = LOG_TEXT;
            else if (val != NULL && strcmp(val, "json") == 0)
                o->log_format = LOG_JSON;
            else {
                snprintf(cause, causelen, "--log-format must be text or json");
                return OPTIONS_ERROR;
            }
        } else {
            snprintf(cause, causelen, "unknown option '%s' (see --help)", a);
            return OPTIONS_ERROR;
        }
    }
    return OPTIONS_RUN;
missing:
    snprintf(cause, causelen, "'%s' needs a value", cur);
    return OPTIONS_ERROR;
}
