/* script: canned answers, chosen by method, path, Authorization and body,
 * read from a JSON script; played by the fake transport (no socket) for
 * the engine's unit tests. (Servers over loopback are nexus-mock
 * fixtures: fixtures/faults/servers/.) */
#ifndef CONFORM_TEST_SCRIPT_H
#define CONFORM_TEST_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct script_header {
    char *name;
    char *value; /* NULL: the header is not sent */
};

/* One canned answer. Everything is owned by the script. */
struct script_reply {
    int status;
    struct script_header *headers; /* the defaults merged in */
    size_t n_headers;
    char *body;
    size_t body_len;
    bool stall;       /* never answer at all */
    bool unreachable; /* the fake transport cannot connect */
    bool hold_open;   /* send the body, then keep the connection open */
    char *endless;    /* after the body, repeat these bytes forever */
    size_t endless_len;
    size_t chunk;      /* write the body in pieces of this size (0: whole) */
    unsigned delay_ms; /* pause between pieces */
    unsigned wait_ms;  /* pause after the headers, before the first piece */
};

struct script;

/* Reads a script (the format: tests/scripts/good.json and the fields of
 * struct script_reply).
 * Returns a new script or NULL with *cause set (free() it). */
struct script *script_load(const char *path, char **cause);
/* Builds a script from JSON (borrowed). */
struct script *script_from_json(const json_t *root, char **cause);
/* Frees s; NULL is a no-op. */
void script_free(struct script *s);
/* Returns the reply of the first route that matches, advancing that
 * route's turn, or the built-in 404 when none does. authorization is NULL
 * when the header was absent. Borrowed; thread-safe. */
const struct script_reply *script_match(struct script *s, const char *method,
                                        const char *path,
                                        const char *authorization,
                                        const char *body, size_t body_len);
/* When the script says to answer every connection with raw bytes that are
 * not HTTP, returns them (and their length); otherwise NULL. */
const char *script_raw(const struct script *s, size_t *len);
/* How many requests matched no route. */
unsigned script_unmatched(const struct script *s);

#endif
