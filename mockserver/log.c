/* log: request and event lines for people (text) or collectors (JSON). */
#include "log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

#include <jansson.h>

#include "jsonio.h"

struct log {
    FILE *out;
    enum log_format fmt;
    bool quiet;
};

struct log *log_new(FILE *out, enum log_format fmt, bool quiet)
{
    struct log *l = calloc(1, sizeof(*l));

    if (l == NULL)
        return NULL;
    l->out = out;
    l->fmt = fmt;
    l->quiet = quiet;
    return l;
}

void log_free(struct log *l)
{
    free(l);
}

/* Formats the current UTC time with milliseconds. */
static void timestamp(char *out, size_t outlen)
{
    struct timeval tv;
    struct tm tm;
    char base[24];

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, outlen, "%s.%03dZ", base, (int)(tv.tv_usec / 1000) % 1000);
}

/* Writes one JSON object as a line, whole or not at all (a line short of
 * a key would mislead); o is stolen. */
static void emit_json(struct log *l, json_t *o)
{
    char *text = o ? jsonio_dumps(o, JSON_COMPACT) : NULL;

    if (text != NULL) {
        flockfile(l->out);
        fputs(text, l->out);
        fputc('\n', l->out);
        fflush(l->out);
        funlockfile(l->out);
    }
    free(text);
    json_decref(o);
}

/* Copies client-supplied text (method, path) for the log, percent-encoding
 * '%', spaces, control characters and non-ASCII bytes, so it can neither
 * forge a log line nor break the JSON encoder, and reads back unambiguously. */
static void clean_text(const char *in, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; *in != '\0' && o + 4 < outlen; in++) {
        unsigned char c = (unsigned char)*in;

        if (c <= 0x20 || c >= 0x7f || c == '%') {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
}

const char *log_outcome_name(enum log_outcome o)
{
    switch (o) {
    case LOG_COMPLETED:
        return "completed";
    case LOG_CLIENT_GONE:
        return "client_gone";
    case LOG_SHUTDOWN:
        return "shutdown";
    case LOG_TIMED_OUT:
        return "timed_out";
    default:
        return "cut";
    }
}

int log_status(const struct log_entry *e)
{
    if (e->outcome == LOG_COMPLETED)
        return e->status;
    if (e->outcome == LOG_CLIENT_GONE)
        return 499;
    return e->outcome == LOG_TIMED_OUT ? 408 : 444;
}

void log_request(struct log *l, const struct log_entry *e)
{
    char ts[40], path[768], method[64], tail[64];
    json_t *o;

    if (l == NULL || l->quiet)
        return;
    timestamp(ts, sizeof(ts));
    clean_text(e->method, method, sizeof(method));
    clean_text(e->path, path, sizeof(path));
    if (l->fmt == LOG_JSON) {
        o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:f, s:s}", "time", ts,
                      "event", "request", "request_id", e->request_id, "method",
                      method, "path", path, "status", log_status(e),
                      "duration_ms", e->ms, "outcome",
                      log_outcome_name(e->outcome));
        if (o != NULL && e->streamed &&
            json_object_set_new(o, "events",
                                json_integer((json_int_t)e->events)) != 0) {
            json_decref(o);
            o = NULL;
        }
        emit_json(l, o);
        return;
    }
    tail[0] = '\0';
    if (e->outcome != LOG_COMPLETED && e->streamed)
        snprintf(tail, sizeof(tail), " outcome=%s events=%" PRIu64,
                 log_outcome_name(e->outcome), e->events);
    else if (e->outcome != LOG_COMPLETED)
        snprintf(tail, sizeof(tail), " outcome=%s",
                 log_outcome_name(e->outcome));
    else if (e->streamed)
        snprintf(tail, sizeof(tail), " events=%" PRIu64, e->events);
    flockfile(l->out);
    fprintf(l->out, "%s %s %s %d %.1fms %s%s\n", ts, method, path,
            log_status(e), e->ms, e->request_id, tail);
    fflush(l->out);
    funlockfile(l->out);
}

/* Logs a message at a level, as text or JSON. */
static void log_message(struct log *l, const char *level, const char *fmt,
                        va_list ap) __attribute__((format(printf, 3, 0)));
static void log_message(struct log *l, const char *level, const char *fmt,
                        va_list ap)
{
    char msg[1024], ts[40];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    timestamp(ts, sizeof(ts));
    if (l->fmt == LOG_JSON) {
        emit_json(l, json_pack("{s:s, s:s, s:s}", "time", ts, "level", level,
                               "message", msg));
        return;
    }
    flockfile(l->out);
    fprintf(l->out, "%s %s %s\n", ts, level, msg);
    fflush(l->out);
    funlockfile(l->out);
}

void log_info(struct log *l, const char *fmt, ...)
{
    va_list ap;

    if (l == NULL || l->quiet)
        return;
    va_start(ap, fmt);
    log_message(l, "info", fmt, ap);
    va_end(ap);
}

void log_error(struct log *l, const char *fmt, ...)
{
    va_list ap;

    if (l == NULL)
        return;
    va_start(ap, fmt);
    log_message(l, "error", fmt, ap);
    va_end(ap);
}
