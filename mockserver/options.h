/* options: nexus-mock's command line, parsed into a plain struct. */
#ifndef NEXUS_OPTIONS_H
#define NEXUS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

#define OPTIONS_DEFAULT_MAX_BODY (4u * 1024u * 1024u)
/* Twice libmicrohttpd's default: room for any real client's headers, while
 * thousands of idle streams stay cheap (each connection holds this much). */
#define OPTIONS_DEFAULT_MAX_HEADERS (64u * 1024u)

struct options {
    const char *fixtures; /* NULL: the embedded default */
    const char *host;
    unsigned port;
    bool check;
    enum log_format log_format;
    bool quiet;
    bool admin;
    size_t max_body;
    unsigned threads;
    unsigned max_connections;
    size_t max_headers;
};

enum options_result { OPTIONS_RUN, OPTIONS_EXIT, OPTIONS_ERROR };

/* Parses argv into o. Returns OPTIONS_RUN, OPTIONS_EXIT after printing
 * --help or --version to out, or OPTIONS_ERROR with a one-line reason in
 * cause (static or in o's strings; not to be freed). */
enum options_result options_parse(int argc, char **argv, struct options *o,
                                  FILE *out, char *cause, size_t causelen);

#endif
