/* testutil: starting nexus-mock as a real process on loopback and talking
 * to it with libcurl, for the process tests. */
#ifndef NEXUS_TESTUTIL_H
#define NEXUS_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "server.h"
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
/* The configuration of an in-process server for tests: 127.0.0.1, any
 * free port, the given threads and connection cap, no cap per address,
 * and the mock's default deadlines and header memory. */
struct server_config test_server_config(unsigned threads,
                                        unsigned max_connections);
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
/* Returns the value of header name in r as a decimal number; the header
 * must be there (a cmocka failure otherwise). */
unsigned long http_header_num(const struct http_reply *r, const char *name);
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
/* How many times needle (not empty) occurs in hay, without overlaps. */
int text_count(const char *hay, const char *needle);
/* Writes text to a new temporary .yaml file; returns its path (free()). */
char *temp_fixture(const char *text);

/* A nexus-mock serving a fixture from a temporary file. */
struct fixture_mock {
    struct testproc proc;
    char *path; /* the temporary fixture file */
};

/* Writes yaml to a temporary file and starts nexus-mock on it (as
 * mock_start, with --fixtures FILE and then the NULL-terminated extra
 * arguments, which may be NULL); initialises libcurl for http_do (call it
 * before starting threads). Returns 0, or -1 with nothing left. */
int fixture_mock_start(struct fixture_mock *m, const char *yaml,
                       const char *const *extra);
/* Stops the mock, removes its file and releases libcurl. Returns 0 when
 * the mock exited 0. */
int fixture_mock_stop(struct fixture_mock *m);

/* Reads the amount named name ("balance", "total_spent") in the body of a
 * /v1/balance answer as the exact decimal it prints, into pico-USD.
 * Returns 0, or -1 when it is missing or not a plain decimal (an exponent,
 * more than 12 places). */
int usd_pico_of(const char *body, const char *name, int64_t *out);
/* GETs /v1/balance for key and reads both amounts exactly (usd_pico_of).
 * Returns 0 or -1. */
int balance_pico(const struct testproc *p, const char *key, int64_t *balance,
                 int64_t *spent);
/* Connects a TCP socket to the mock (the host and port of its URL).
 * Returns the descriptor, or -1. */
int raw_connect(const struct testproc *p);
/* As raw_connect, from the local address from (such as "127.0.0.2", for
 * tests of the caps per client address; NULL: the kernel's choice). */
int raw_connect_from(const struct testproc *p, const char *from);
/* The same, from a socket whose receive buffer is set to rcvbuf bytes
 * before it connects (the window it offers stays that small). */
int raw_connect_rcvbuf(const struct testproc *p, int rcvbuf);
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
int raw_read_end(int fd, int timeout_ms, struct raw_reading *r);
/* The status code of the HTTP answer in r, or 0 if it holds none. */
int raw_status(const struct raw_reading *r);
/* The body of the HTTP answer in r (after the header block), or NULL. */
const char *raw_body(const struct raw_reading *r);
/* Closes fd with a reset (RST) instead of a FIN. */
void raw_reset(int fd);
/* How many descriptors process pid holds open, or -1. */
int proc_fd_count(pid_t pid);
/* How many lines of the file at path hold text (lines longer than 4 KiB
 * count in pieces), or -1 when it cannot be read. */
int file_lines_with(const char *path, const char *text);
/* Returns, as a new reference, the request line of the JSON log
 * (--log-format json) at log_path whose request_id is id, or NULL. */
json_t *log_find_request(const char *log_path, const char *id);

/* Waits (at most 5 s) for the journal entry of request id in the mock
 * p (started with --admin; token NULL, or its --admin-token) and returns
 * it as a new reference, or NULL. */
json_t *journal_wait(const struct testproc *p, const char *token,
                     const char *id);
/* True when the journal entry and the JSON log line of one request say
 * the same: status, outcome, events and the duration (whole ms). Else
 * false, with what differs in why. */
bool journal_agrees(const json_t *entry, const json_t *line, char *why,
                    size_t whylen);

/* The real-client harness, tests/clients/drive.mjs (one Node project
 * under $NEXUS_SOURCE_DIR), for the process tests that drive real clients.
 * Checks that Node.js 20 or later and the project's node_modules are there
 * and writes drive.mjs's path into path. Returns 0; 77 (ctest's "skipped")
 * when node is not installed at all; 1 for anything else missing, with
 * the reason printed on stderr after who. */
int drive_prepare(const char *who, char *path, size_t pathlen);
/* Runs node on the drive.mjs at path with args (NULL-terminated) for at
 * most timeout_s seconds and returns its results, one JSON value per line
 * of its output, as a new array; NULL (with what it printed on stderr)
 * when it did not exit 0 or printed a line that is not JSON. */
json_t *drive_run(const char *path, const char *const *args, double timeout_s);

#endif
