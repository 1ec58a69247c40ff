/* options: the command line and the environment, read into one plain
 * configuration that the rest of the runner only reads. */
#ifndef CONFORM_OPTIONS_H
#define CONFORM_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The default of --done-grace, in seconds: how long a server may keep a
 * stream open after [DONE]. A literal, so that the texts can state it. */
#define OPTIONS_DONE_GRACE_S 1
#define OPTIONS_STR_(x) #x
#define OPTIONS_STR(x) OPTIONS_STR_(x)
/* The default of --done-grace as a string: "1". */
#define OPTIONS_DONE_GRACE_TEXT OPTIONS_STR(OPTIONS_DONE_GRACE_S)

enum profile { PROFILE_OPENAI, PROFILE_AI_NEXUS };
enum color_mode { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };
/* How --list-checks prints: a table for people, or JSON for tools. */
enum list_format { LIST_TEXT, LIST_JSON };

/* Strings are borrowed from argv or the environment. */
struct options {
    const char *base_url;
    const char *api_key;
    const char *model; /* NULL: the first model the server lists */
    enum profile profile;
    unsigned long groups; /* bit i: group i of conform_groups() selected */
    const char *empty_key;
    long rpm; /* 0 when not given */
    const char *ratelimit_key;
    double timeout_s;
    double stream_timeout_s;
    double done_grace_s; /* a stream may stay open this long after [DONE] */
    size_t max_bytes;
    const char *json_path;
    const char *junit_path;
    const char *html_path;
    bool verbose;
    enum color_mode color;
    /* --strict: every deviation from the spec's text fails, not only
     * those that break a contract or a real client. */
    bool strict;
    enum list_format list_format; /* --format, with --list-checks */
};

enum options_action {
    OPTIONS_RUN,     /* run the checks */
    OPTIONS_HELP,    /* --help */
    OPTIONS_VERSION, /* --version */
    OPTIONS_LIST,    /* --list-checks (in o->list_format) */
    OPTIONS_ERROR    /* a usage error, said in *cause */
};

/* Reads argv (argv[0] is the program) with env as the fallback for the
 * base URL and key (pass getenv, or a stub in tests). On OPTIONS_ERROR,
 * *cause is a new message (free() it). */
enum options_action options_parse(struct options *o, int argc,
                                  char *const argv[],
                                  const char *(*env)(const char *name),
                                  char **cause);
/* Prints the usage text. */
void options_usage(FILE *out);
/* "openai" or "ai-nexus". */
const char *options_profile_name(enum profile p);

#endif
