/* server: the HTTP layer, and the only file that calls libmicrohttpd. It
 * turns connections into requests for the router and responses into bytes:
 * a JSON body, or a source (source.h) whose pieces it sends as they fall
 * due, parking the connection on one timer in between, so a small fixed
 * pool of threads serves any number of slow answers. A source may also
 * close or reset the connection, or write bytes that are not HTTP. */
#ifndef NEXUS_SERVER_H
#define NEXUS_SERVER_H

#include <limits.h>
#include <stddef.h>

#include "app.h"

/* server_config.max_per_ip: no cap on a loopback address, a tenth of
 * max_connections otherwise (slots_default_per_addr). */
#define SERVER_PER_IP_AUTO UINT_MAX

struct server;

struct server_config {
    const char *host;
    unsigned port;            /* 0: any free port */
    unsigned threads;         /* worker threads polling connections */
    unsigned max_connections; /* held at once; more are refused at once */
    unsigned max_per_ip;      /* from one client address; 0: no cap */
    /* Seconds: for a request's line and headers (from the accept, or the
     * end of the previous answer), for its body (from the end of its
     * headers), and for a connection where nothing moves at all. */
    unsigned header_timeout_s;
    unsigned body_timeout_s;
    unsigned idle_timeout_s;
    /* Each connection's memory for the request line and headers, and the
     * answer's headers: a request over it gets libmicrohttpd's own 431. */
    size_t max_headers;
};

/* Starts listening and serving app (borrowed; must outlive the server).
 * Returns 0 and a new server in *out, or -1 with a one-line reason. */
int server_start(struct app *app, const struct server_config *cfg,
                 struct server **out, char *cause, size_t causelen);
/* The port the server is bound to. */
unsigned server_port(const struct server *s);
/* Stops accepting, lets in-flight requests finish with every source
 * hurried (its waits dropped), waits at most grace_ms for them, then stops
 * and frees s. NULL is a no-op. Returns how many requests were still in
 * flight when it gave up (0 on a clean stop). */
unsigned server_stop(struct server *s, unsigned grace_ms);

#endif
