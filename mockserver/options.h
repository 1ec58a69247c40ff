/* options: nexus-mock's command line, parsed into a plain struct. */
#ifndef NEXUS_OPTIONS_H
#define NEXUS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "budget.h"
#include "log.h"

#define OPTIONS_DEFAULT_MAX_BODY (4u * 1024u * 1024u)

struct options {
    const char *fixtures; /* NULL: the embedded default */
    const char *host;
    unsigned port;
    bool check;
    enum log_format log_format;
    bool quiet;
    bool admin;
    const char *admin_token; /* NULL: none */
    size_t journal_max_bytes;
    size_t journal_body_max;
    size_t max_body;
    unsigned threads;
    unsigned max_connections;
    struct budget_limits gen; /* --max-gen-nodes, --max-gen-bytes,
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
