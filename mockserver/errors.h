/* errors: every API error the mock can answer, and the one place that turns
 * an error into its HTTP status and OpenAI-style body. */
#ifndef NEXUS_ERRORS_H
#define NEXUS_ERRORS_H

#include <jansson.h>

enum api_error_kind {
    API_ERR_NONE = 0,
    API_ERR_INVALID_JSON,       /* 400: body is not JSON */
    API_ERR_INVALID_REQUEST,    /* 400: a parameter is wrong */
    API_ERR_MISSING_KEY,        /* 401: no Authorization, or not Bearer */
    API_ERR_INVALID_KEY,        /* 401: unknown key */
    API_ERR_INSUFFICIENT_FUNDS, /* 402 */
    API_ERR_MODEL_NOT_FOUND,    /* 404: unknown model */
    API_ERR_UNKNOWN_URL,        /* 404: unknown path */
    API_ERR_METHOD_NOT_ALLOWED, /* 405 */
    API_ERR_BODY_TOO_LARGE,     /* 413 */
    API_ERR_HEADERS_TOO_LARGE,  /* 431: more header than can be answered */
    API_ERR_RATE_REQUESTS,      /* 429: requests per minute spent */
    API_ERR_RATE_TOKENS,        /* 429: tokens per minute spent */
    API_ERR_SERVER,             /* 500 */
};

/* Plain data: what went wrong, filled in by whoever detects it. */
struct api_error {
    enum api_error_kind kind;
    char message[512];
    char param[128];  /* "" means null */
    const char *code; /* static string; NULL means the kind's default */
};

/* Fills e (kind, param or NULL, code or NULL, printf-style message). */
void api_error_set(struct api_error *e, enum api_error_kind kind,
                   const char *param, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The HTTP status for a kind. */
int api_error_status(enum api_error_kind kind);
/* Returns a new reference to {"error":{"message","type","param","code"}},
 * or NULL on OOM. */
json_t *api_error_body(const struct api_error *e);

/* Returns a new reference to the OpenAI error body a scripted answer of
 * status (400-599) carries: message, type and code as given, or when NULL
 * the status's own (429: "requests" and "rate_limit_exceeded", 500:
 * "server_error", ...); param as given, or null. NULL on OOM. */
json_t *api_error_body_for(int status, const char *message, const char *type,
                           const char *code, const char *param);

#endif
