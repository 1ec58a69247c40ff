/* testutil: starting nexus-mock as a real process on loopback and talking
 * to it with libcurl, for the process tests. */
#ifndef NEXUS_TESTUTIL_H
#define NEXUS_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "testproc.h"

struct http_reply {
    long status;
    char *headers; /* raw header block, lower-cased names */
    size_t headers_len;
    char *body;
    size_t body_len;
    json_t *json; /* body parsed, or NULL */
};

/* Starts nexus-mock (from $NEXUS_MOCK_BIN) with --port 0 --host 127.0.0.1
 * --quiet plus the NULL-terminated extra args and waits for its listening
 * line (see testproc_start). Stop it with testproc_stop. Returns 0 or -1. */
int mock_start(struct testproc *p, const char *const *extra);
/* As mock_start, without --quiet and with stderr going to the file
 * log_path. */
int mock_start_logged(struct testproc *p, const char *const *extra,
                      const char *log_path);

/* Performs one request. method "GET"/"POST"/..., path appended to the
 * mock's URL, key NULL for no Authorization header, body NULL for none.
 * extra_header may be NULL. Returns 0 or -1 (transport error). */
int http_do(const struct testproc *p, const char *method, const char *path,
            const char *key, const char *body, const char *extra_header,
            struct http_reply *r);
/* Frees what a reply holds. */
void http_reply_free(struct http_reply *r);
/* Returns the value of header name in r (a new string, free()) or NULL. */
char *http_header(const struct http_reply *r, const char *name);
/* Counts what a streamed reply delivers, as it arrives. */
struct stream_sink {
    uint64_t start_ms;       /* set by the caller, clock_real_ms() */
    uint64_t first_event_ms; /* from start_ms to the end of the 1st event */
    unsigned events;         /* blank-line ends seen ("\n\n") */
    size_t bytes;
    char last;     /* the previous byte, across writes */
    char tail[15]; /* the last 14 bytes, NUL-terminated */
};

/* libcurl write callback feeding a struct stream_sink. */
size_t stream_sink_write(char *ptr, size_t size, size_t nmemb, void *ud);
/* Writes text to a new temporary .yaml file; returns its path (free()). */
char *temp_fixture(const char *text);

/* The port a started mock listens on (from its URL), or 0. */
unsigned mock_port(const struct testproc *p);
/* Connects a TCP socket to the mock on 127.0.0.1 from the local address
 * from (such as "127.0.0.2"; NULL: the kernel's choice). Returns the
 * socket (the caller closes it) or -1. */
int raw_connect(const struct testproc *p, const char *from);
/* Sends all of data, or fails. Returns 0 or -1. */
int raw_send(int fd, const char *data, size_t len);
/* What a raw client read until the connection ended. */
struct raw_reading {
    char *data; /* NUL-terminated; free() */
    size_t len;
    int err;             /* 0: EOF; an errno; ETIMEDOUT: still open */
    uint64_t elapsed_ms; /* from the call to the end */
};
/* Reads from fd until EOF, an error, or timeout_ms without an end (at most
 * 1 MiB). Returns 0, or -1 out of memory. */
int raw_read(int fd, int timeout_ms, struct raw_reading *r);
/* The status code of the HTTP answer in r, or 0 if it holds none. */
int raw_status(const struct raw_reading *r);
/* The body of the HTTP answer in r (after the header block), or NULL. */
const char *raw_body(const struct raw_reading *r);
/* Closes fd with a reset (RST) instead of a FIN. */
void raw_reset(int fd);
/* How many lines of the file at path hold text (lines longer than 4 KiB
 * count in pieces), or -1 when it cannot be read. */
int file_lines_with(const char *path, const char *text);
/* How many descriptors process pid holds open, or -1. */
int proc_fd_count(pid_t pid);

#endif
