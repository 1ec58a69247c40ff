/* benchutil: what the bench tools share: a monotonic clock, the target's
 * address, the text of a chat request, a process's memory and CPU from
 * /proc, and the open-file limit. */
#ifndef NEXUS_BENCHUTIL_H
#define NEXUS_BENCHUTIL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Where a tool connects: an IPv4 literal and a port, from "http://A:P". */
struct bench_target {
    struct sockaddr_in addr;
    char hostport[64]; /* "A:P", for the Host header */
};

/* What /proc says about a process. */
struct bench_proc {
    unsigned long long hwm_kb; /* peak resident set (VmHWM) */
    unsigned long long rss_kb; /* resident set now (VmRSS) */
    double cpu_s;              /* user + system time so far */
};

/* Microseconds on the monotonic clock. */
uint64_t bench_now_us(void);

/* Parses "http://A.B.C.D:PORT" (a path after it is ignored) into t.
 * Returns 0, or -1 for anything else (names are not resolved). */
int bench_target_parse(const char *url, struct bench_target *t);

/* Returns a new HTTP/1.1 request (free() it) of len bytes: method, path,
 * Host, "Authorization: Bearer key", and for a body its Content-Type and
 * Content-Length; "Connection: close" when close. NULL on out of memory. */
char *bench_request_new(const struct bench_target *t, const char *method,
                        const char *path, const char *key, const char *body,
                        bool close, size_t *len);

/* Returns a new chat completion body for model (free() it): one user
 * message, "stream" when stream, and max_tokens when it is not 0. NULL on
 * out of memory. */
char *bench_chat_body(const char *model, bool stream, unsigned max_tokens);

/* Fills p from /proc/PID/status and /proc/PID/stat. Returns 0 or -1 (the
 * process is gone, or /proc is not there). */
int bench_proc_read(pid_t pid, struct bench_proc *p);

/* Raises the soft open-file limit to the hard one; returns the limit now
 * in force. */
unsigned long long bench_raise_nofile(void);

#endif
