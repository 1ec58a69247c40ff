/* client: the libcurl transport, with timeouts, a size cap and the raw
 * bytes and headers kept for evidence. */
#ifndef CONFORM_CLIENT_H
#define CONFORM_CLIENT_H

#include "transport.h"

struct client_config {
    const char *base_url;    /* e.g. http://127.0.0.1:8080/v1 (copied) */
    double timeout_s;        /* a whole plain exchange; also the longest
                                silence tolerated inside a stream */
    double stream_timeout_s; /* a whole streamed exchange */
    const char *user_agent;  /* copied */
};

/* Returns a new transport over libcurl, or NULL with *cause set (free()
 * it). Free with transport_free(). Call curl_global_init() first. */
struct transport *client_new(const struct client_config *cfg, char **cause);

#endif
