/* log: one line per request and per event on stderr, as text or JSON. */
#ifndef NEXUS_LOG_H
#define NEXUS_LOG_H

#include <stdbool.h>
#include <stdio.h>

enum log_format { LOG_TEXT, LOG_JSON };

struct log;

/* Returns a logger writing to out, or NULL on OOM. quiet drops request and
 * info lines but never errors. */
struct log *log_new(FILE *out, enum log_format fmt, bool quiet);
/* Frees l; NULL is a no-op. */
void log_free(struct log *l);
/* Logs a finished request. Thread-safe. */
void log_request(struct log *l, const char *request_id, const char *method,
                 const char *path, int status, double ms);
/* Logs an informational event. Thread-safe. */
void log_info(struct log *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Logs an error, even when quiet. Thread-safe. */
void log_error(struct log *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
