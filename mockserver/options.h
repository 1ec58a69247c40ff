/* options: nexus-mock's command line, parsed into a plain struct. */
#ifndef NEXUS_OPTIONS_H
#define NEXUS_OPTIONS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "budget.h"
#include "log.h"

#define OPTIONS_DEFAULT_MAX_BODY (4u * 1024u * 1024u)
/* --threads not given: one worker thread per online core (mock.c). No
 * worker ever waits (streams and delays are parked on the timer), so more
 * threads than cores only switch between them: on 2 cores, 2 threads
 * answered the chat path at 63-77k req/s where 4 did 51-64k (wrk -c64,
 * three runs each on a loaded machine). */
#define OPTIONS_THREADS_AUTO 0u
/* How many times --fixtures may be given (a directory counts once). */
#define OPTIONS_MAX_FIXTURES 64
/* Each connection holds this much for as long as it lives, and the
 * library zeroes half of it per request: at 64 KiB a waiting stream cost
 * 41 KB, at 8 KiB 12 KB (nexus-streamgen). 8 KiB is the usual server limit
 * (Apache's 8190-byte field limit, nginx's 8k buffers) and leaves a head
 * of 6 KiB: SDKs send under 1 KiB. --max-headers raises it. */
#define OPTIONS_DEFAULT_MAX_HEADERS (8u * 1024u)
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
/* Bytes a fault's endless repetition sends in one answer: far past any
 * client's own cap (nexus-conform's is 8 MiB), so the client gives up
 * first, and still a bound on what one connection can cost. */
#define OPTIONS_DEFAULT_MAX_ENDLESS_BYTES (64ull << 20)
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
    unsigned threads; /* or OPTIONS_THREADS_AUTO */
    unsigned max_connections;
    unsigned max_connections_per_ip; /* or OPTIONS_PER_IP_AUTO */
    size_t max_headers;
    unsigned header_timeout, body_timeout, idle_timeout; /* seconds */
    unsigned shutdown_grace;                             /* seconds */
    unsigned long long max_endless_bytes; /* --max-endless-bytes */
    unsigned regex_match_limit;           /* match_set_regex_limit's */
    struct budget_limits gen;             /* --max-gen-nodes, --max-gen-bytes,
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
