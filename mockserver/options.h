/* options: nexus-mock's command line, parsed into a plain struct. */
#ifndef NEXUS_OPTIONS_H
#define NEXUS_OPTIONS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "budget.h"
#include "log.h"

#define OPTIONS_DEFAULT_MAX_BODY (4u * 1024u * 1024u)
/* How many times --fixtures may be given (a directory counts once). */
#define OPTIONS_MAX_FIXTURES 64
/* Twice libmicrohttpd's default: room for any real client's headers, while
 * thousands of idle streams stay cheap (each connection holds this much). */
#define OPTIONS_DEFAULT_MAX_HEADERS (64u * 1024u)
/* Seconds for a request's line and headers, for its body, and for a
 * connection on which nothing moves. */
#define OPTIONS_DEFAULT_HEADER_TIMEOUT 30u
#define OPTIONS_DEFAULT_BODY_TIMEOUT 60u
#define OPTIONS_DEFAULT_IDLE_TIMEOUT 120u
/* How long the fixture files must be left alone after a change before
 * --watch reloads them: an editor's save is several events. */
#define OPTIONS_DEFAULT_WATCH_DELAY_MS 200u
/* Seconds SIGTERM (or SIGINT, SIGQUIT) lets in-flight requests finish,
 * every stream's pacing dropped, before what is left is cut. */
#define OPTIONS_DEFAULT_SHUTDOWN_GRACE 2u
/* max_connections_per_ip when --max-connections-per-ip is not given: the
 * server decides from the address it listens on (SERVER_PER_IP_AUTO). */
#define OPTIONS_PER_IP_AUTO UINT_MAX

struct options {
    /* The --fixtures paths in order (files or directories); none: the
     * embedded default. Borrowed from argv. */
    const char *fixtures[OPTIONS_MAX_FIXTURES];
    size_t nfixtures;
    const char *host;
    unsigned port;
    bool check;
    size_t max_problems; /* --check and a refused load list this many */
    enum log_format log_format;
    bool quiet;
    bool admin;
    bool watch;              /* reload when a --fixtures file changes */
    unsigned watch_delay_ms; /* quiet time before that reload */
    const char *admin_token; /* NULL: none */
    size_t journal_max_bytes;
    size_t journal_body_max;
    size_t max_body;
    unsigned threads;
    unsigned max_connections;
    unsigned max_connections_per_ip; /* or OPTIONS_PER_IP_AUTO */
    size_t max_headers;
    unsigned header_timeout, body_timeout, idle_timeout; /* seconds */
    unsigned shutdown_grace;                             /* seconds */
    unsigned regex_match_limit; /* match_set_regex_limit's */
    struct budget_limits gen;   /* --max-gen-nodes, --max-gen-bytes,
                                 * --max-schema-depth */
};

enum options_result { OPTIONS_RUN, OPTIONS_EXIT, OPTIONS_ERROR };

/* Parses argv into o. Returns OPTIONS_RUN, OPTIONS_EXIT after printing
 * --help or --version to out, or OPTIONS_ERROR with a one-line reason in
 * cause (static or in o's strings; not to be freed). */
enum options_result options_parse(int argc, char **argv, struct options *o,
                                  FILE *out, char *cause, size_t causelen);

/* Parses a decimal unsigned integer in [min, max] into *out (the parser of
 * every numeric option; the bench tools use it too). Returns 0 or -1. */
int options_parse_uint(const char *s, unsigned long long min,
                       unsigned long long max, unsigned long long *out);

#endif
