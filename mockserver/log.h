/* log: one line per request and per event on stderr, as text or JSON. */
#ifndef NEXUS_LOG_H
#define NEXUS_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum log_format { LOG_TEXT, LOG_JSON };

struct log;

/* Returns a logger writing to out, or NULL on OOM. quiet drops request and
 * info lines but never errors. */
struct log *log_new(FILE *out, enum log_format fmt, bool quiet);
/* Frees l; NULL is a no-op. */
void log_free(struct log *l);
/* How a request ended. */
enum log_outcome {
    LOG_COMPLETED,   /* its whole answer went out */
    LOG_CLIENT_GONE, /* the client closed, reset or stopped reading first */
    LOG_SHUTDOWN,    /* the server stopped before the answer was out */
    LOG_CUT,         /* the server cut it on purpose (a scripted close or
                        reset) or could not go on (out of memory) */
    LOG_TIMED_OUT,   /* the server closed it at its body deadline */
};

/* What the request line says. A plain data carrier; strings borrowed. */
struct log_entry {
    const char *request_id;
    const char *method; /* as the client sent them: cleaned when logged */
    const char *path;
    int status; /* the HTTP status answered; 0: none was */
    enum log_outcome outcome;
    bool streamed;   /* the answer was a stream of events */
    uint64_t events; /* a stream's events handed to the socket */
    double ms;       /* from the request's arrival to its end */
};

/* The word for an outcome ("completed", "client_gone", "shutdown",
 * "cut"), as both formats and the journal write it. Static. */
const char *log_outcome_name(enum log_outcome o);
/* The status a request's line shows: its HTTP status when it completed;
 * otherwise nginx's 499 when its client left first, 408 when its body did
 * not come in time, and 444 when the server closed the connection before
 * the answer was out (shutdown, a cut), whatever status line had been
 * sent. */
int log_status(const struct log_entry *e);
/* Logs a finished request: time, method, path, status (log_status),
 * duration, request id; then "outcome=..." when it did not complete, and
 * "events=N" for a stream. JSON lines always carry "outcome", and
 * "events" for a stream. Thread-safe. */
void log_request(struct log *l, const struct log_entry *e);
/* Logs an informational event. Thread-safe. */
void log_info(struct log *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Logs an error, even when quiet. Thread-safe. */
void log_error(struct log *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
