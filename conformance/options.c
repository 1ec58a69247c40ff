/* options: the command line and the environment, read into one plain
 * configuration that the rest of the runner only reads. */
#include "options.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"
#include "buf.h"
#include "parse.h"

#define DEFAULT_TIMEOUT_S 30.0
#define DEFAULT_STREAM_TIMEOUT_S 120.0
#define DEFAULT_MAX_BYTES ((size_t)8 << 20)
/* A usage error is one line; an argument quoted in it is cut here. */
#define USAGE_MESSAGE_MAX 1000

/* Sets *cause to a new formatted message and returns OPTIONS_ERROR. */
static enum options_action usage_error(char **cause, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Builds the message of a usage error. */
static enum options_action usage_error(char **cause, const char *fmt, ...)
{
    struct buf b;
    va_list ap;
    int err;

    /* An argument quoted in the message is cut, not the message lost. */
    buf_init(&b, USAGE_MESSAGE_MAX + 3);
    va_start(ap, fmt);
    err = buf_vappendf_cut(&b, USAGE_MESSAGE_MAX, fmt, ap);
    va_end(ap);
    if (err == 0)
        *cause = buf_take(&b, NULL);
    buf_cleanup(&b);
    return OPTIONS_ERROR;
}

/* Prints the usage text. */
void options_usage(FILE *out)
{
    fputs("Usage: nexus-conform --base-url URL --api-key KEY [options]\n"
          "\n"
          "Certifies that URL is an OpenAI-compatible chat API.\n"
          "\n"
          "  --base-url URL        API base, e.g. https://api.example.com/v1\n"
          "                        (default: $OPENAI_BASE_URL)\n"
          "  --api-key KEY         key for the checks (default: "
          "$OPENAI_API_KEY)\n"
          "  --model ID            model to test (default: the first listed)\n"
          "  --profile P           openai (default) or ai-nexus (adds "
          "billing)\n"
          "  --only G,...          run only these groups\n"
          "  --skip G,...          do not run these groups\n"
          "  --empty-key KEY       a key with no balance, for the 402 check\n"
          "  --rpm N               the requests-per-minute limit of...\n"
          "  --ratelimit-key KEY   ...this key, for the rate limit checks\n"
          "  --timeout S           seconds per request, and the longest\n"
          "                        silence inside a stream (default 30)\n"
          "  --stream-timeout S    seconds per whole stream (default 120)\n"
          "  --done-grace S        seconds a stream may stay open after\n"
          "                        [DONE], whatever the timeouts "
          "(default " OPTIONS_DONE_GRACE_TEXT ")\n"
          "  --max-bytes N         cap on one response's size (default "
          "8388608)\n"
          "  --json FILE           write the JSON report\n"
          "  --junit FILE          write the JUnit XML report\n"
          "  --html FILE           write the HTML report\n"
          "  --color WHEN          auto (default), always or never\n"
          "  --strict              every deviation from the spec's text\n"
          "                        fails, not only those that break a\n"
          "                        contract or a real client\n"
          "  --verbose             log each exchange, show evidence\n"
          "  --list-checks         print every check and exit\n"
          "  --format F            with --list-checks: text (default) or\n"
          "                        json (level, basis, source, impacts)\n"
          "  --version, --help\n"
          "\n"
          "Groups: models, chat, stream, usage, params, auth, notfound,\n"
          "billing, ratelimit. Exit status: 0 every check that ran passed\n"
          "(warnings allowed), 1 a check failed, 2 usage error or the server\n"
          "cannot be reached.\n",
          out);
}

/* "openai" or "ai-nexus". */
const char *options_profile_name(enum profile p)
{
    return p == PROFILE_AI_NEXUS ? "ai-nexus" : "openai";
}

/* Turns a comma-separated list of group names into a bit set. */
static int parse_groups(const char *list, unsigned long *out, char **cause)
{
    int err = -1, idx;
    const char *p = list, *comma;
    char name[32];
    size_t len;
    unsigned long set = 0;

    if (*p == '\0') {
        usage_error(cause, "bad group list '' (name at least one group)");
        goto out;
    }
    while (*p != '\0') {
        comma = strchr(p, ',');
        len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len >= sizeof(name)) {
            usage_error(cause, "bad group list '%s'", list);
            goto out;
        }
        memcpy(name, p, len);
        name[len] = '\0';
        idx = conform_group_index(name);
        if (idx < 0) {
            usage_error(cause,
                        "unknown group '%s' (groups: models, chat, stream, "
                        "usage, tools, format, params, auth, notfound, "
                        "billing, ratelimit)",
                        name);
            goto out;
        }
        set |= 1UL << idx;
        p += len;
        if (*p == ',')
            p++;
    }
    *out = set;
    err = 0;
out:
    return err;
}

/* Reads a number of seconds in (0, 3600]. */
static int parse_seconds(const char *s, double *out)
{
    int ret;
    double v;

    if (parse_double(s, &v) != 0 || v <= 0 || v > 3600) {
        ret = -1;
        goto out;
    }
    *out = v;
    ret = 0;
out:
    return ret;
}

/* Matches argv[*i] against --name, taking its value from "--name=V" or
 * from the next argument. Returns 1 with *value set, 0 when it is another
 * option, -1 when the value is missing. */
static int take_value(int argc, char *const argv[], int *i, const char *name,
                      const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    int ret = 0;

    if (strncmp(a, name, n) != 0 || (a[n] != '=' && a[n] != '\0')) {
        ret = 0;
    } else if (a[n] == '=') {
        *value = a + n + 1;
        ret = 1;
    } else if (*i + 1 >= argc) {
        ret = -1;
    } else {
        *i += 1;
        *value = argv[*i];
        ret = 1;
    }
    return ret;
}

/* Returns the field a string option is stored in, or NULL when name is
 * not a string option. */
static const char **string_field(struct options *o, const char *name)
{
    const struct {
        const char *name;
        const char **field;
    } fields[] = {
        {"--base-url", &o->base_url},
        {"--api-key", &o->api_key},
        {"--model", &o->model},
        {"--empty-key", &o->empty_key},
        {"--ratelimit-key", &o->ratelimit_key},
        {"--json", &o->json_path},
        {"--junit", &o->junit_path},
        {"--html", &o->html_path},
    };
    const char **found = NULL;
    size_t i;

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]) && found == NULL; i++)
        if (strcmp(name, fields[i].name) == 0)
            found = fields[i].field;
    return found;
}

/* Applies one valued option. Returns OPTIONS_RUN or OPTIONS_ERROR. */
static enum options_action apply(struct options *o, const char *name,
                                 const char *v, unsigned long *only,
                                 unsigned long *skip, char **cause)
{
    enum options_action ret = OPTIONS_ERROR;
    const char **field = string_field(o, name);
    int64_t n;

    if (field != NULL) {
        if (v[0] == '\0') {
            usage_error(cause, "%s needs a value", name);
            goto out;
        }
        *field = v;
    } else if (strcmp(name, "--profile") == 0) {
        if (strcmp(v, "openai") == 0) {
            o->profile = PROFILE_OPENAI;
        } else if (strcmp(v, "ai-nexus") == 0) {
            o->profile = PROFILE_AI_NEXUS;
        } else {
            usage_error(cause, "--profile must be openai or ai-nexus");
            goto out;
        }
    } else if (strcmp(name, "--only") == 0 || strcmp(name, "--skip") == 0) {
        if (parse_groups(v, name[2] == 'o' ? only : skip, cause) != 0)
            goto out;
    } else if (strcmp(name, "--rpm") == 0) {
        if (parse_int64(v, &n) != 0 || n < 1 || n > 100000) {
            usage_error(cause, "--rpm must be an integer 1..100000");
            goto out;
        }
        o->rpm = (long)n;
    } else if (strcmp(name, "--timeout") == 0) {
        if (parse_seconds(v, &o->timeout_s) != 0) {
            usage_error(cause, "--timeout must be seconds in (0, 3600]");
            goto out;
        }
    } else if (strcmp(name, "--stream-timeout") == 0) {
        if (parse_seconds(v, &o->stream_timeout_s) != 0) {
            usage_error(cause, "--stream-timeout must be seconds in (0, "
                               "3600]");
            goto out;
        }
    } else if (strcmp(name, "--done-grace") == 0) {
        if (parse_seconds(v, &o->done_grace_s) != 0) {
            usage_error(cause, "--done-grace must be seconds in (0, 3600]");
            goto out;
        }
    } else if (strcmp(name, "--max-bytes") == 0) {
        if (parse_int64(v, &n) != 0 || n < 1024 || n > ((int64_t)1 << 30)) {
            usage_error(cause, "--max-bytes must be an integer 1024..2^30");
            goto out;
        }
        o->max_bytes = (size_t)n;
    } else if (strcmp(name, "--format") == 0) {
        if (strcmp(v, "text") == 0) {
            o->list_format = LIST_TEXT;
        } else if (strcmp(v, "json") == 0) {
            o->list_format = LIST_JSON;
        } else {
            usage_error(cause, "--format must be text or json");
            goto out;
        }
    } else if (strcmp(name, "--color") == 0) {
        if (strcmp(v, "auto") == 0) {
            o->color = COLOR_AUTO;
        } else if (strcmp(v, "always") == 0) {
            o->color = COLOR_ALWAYS;
        } else if (strcmp(v, "never") == 0) {
            o->color = COLOR_NEVER;
        } else {
            usage_error(cause, "--color must be auto, always or never");
            goto out;
        }
    }
    ret = OPTIONS_RUN;
out:
    return ret;
}

/* Checks what only the whole command line can tell. */
static enum options_action validate(struct options *o, char **cause)
{
    enum options_action ret = OPTIONS_ERROR;

    if (o->base_url == NULL)
        usage_error(cause, "no base URL: pass --base-url or set "
                           "OPENAI_BASE_URL");
    else if (strncmp(o->base_url, "http://", 7) != 0 &&
             strncmp(o->base_url, "https://", 8) != 0)
        usage_error(cause, "the base URL must start with http:// or "
                           "https://");
    else if (o->api_key == NULL)
        usage_error(cause, "no API key: pass --api-key or set "
                           "OPENAI_API_KEY");
    else if (o->groups == 0)
        usage_error(cause, "--only and --skip leave no group to run");
    else
        ret = OPTIONS_RUN;
    return ret;
}

/* Reads argv (argv[0] is the program) with env as the fallback for the base
 * URL and key (pass getenv, or a stub in tests). */
enum options_action options_parse(struct options *o, int argc,
                                  char *const argv[],
                                  const char *(*env)(const char *name),
                                  char **cause)
{
    enum options_action ret;
    static const char *const valued[] = {
        "--base-url",      "--api-key", "--model",          "--profile",
        "--only",          "--skip",    "--empty-key",      "--rpm",
        "--ratelimit-key", "--timeout", "--stream-timeout", "--done-grace",
        "--max-bytes",     "--json",    "--junit",          "--html",
        "--color",         "--format"};
    unsigned long only = 0, skip = 0, all;
    enum options_action act = OPTIONS_RUN;
    const char *v = NULL;
    size_t k, n_groups;
    int i, r;
    bool matched, list = false, format = false;

    *cause = NULL;
    memset(o, 0, sizeof(*o));
    o->timeout_s = DEFAULT_TIMEOUT_S;
    o->stream_timeout_s = DEFAULT_STREAM_TIMEOUT_S;
    o->done_grace_s = OPTIONS_DONE_GRACE_S;
    o->max_bytes = DEFAULT_MAX_BYTES;
    conform_groups(&n_groups);
    all = (1UL << n_groups) - 1;
    for (i = 1; i < argc && act == OPTIONS_RUN; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            ret = OPTIONS_HELP;
            goto out;
        }
        if (strcmp(argv[i], "--version") == 0) {
            ret = OPTIONS_VERSION;
            goto out;
        }
        if (strcmp(argv[i], "--list-checks") == 0) {
            list = true;
            continue;
        }
        if (strcmp(argv[i], "--strict") == 0) {
            o->strict = true;
            continue;
        }
        if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
            o->verbose = true;
            continue;
        }
        if (strcmp(argv[i], "--no-color") == 0) {
            o->color = COLOR_NEVER;
            continue;
        }
        matched = false;
        for (k = 0; k < sizeof(valued) / sizeof(valued[0]) && !matched; k++) {
            r = take_value(argc, argv, &i, valued[k], &v);
            if (r < 0) {
                ret = usage_error(cause, "%s needs a value", valued[k]);
                goto out;
            }
            if (r > 0) {
                matched = true;
                format = format || strcmp(valued[k], "--format") == 0;
                act = apply(o, valued[k], v, &only, &skip, cause);
            }
        }
        if (!matched) {
            ret = usage_error(cause, "unknown argument '%s'", argv[i]);
            goto out;
        }
    }
    if (act != OPTIONS_RUN) {
        ret = act;
        goto out;
    }
    if (list) {
        ret = OPTIONS_LIST;
        goto out;
    }
    if (format) {
        ret = usage_error(cause, "--format goes with --list-checks");
        goto out;
    }
    if (o->base_url == NULL)
        o->base_url = env("OPENAI_BASE_URL");
    if (o->api_key == NULL)
        o->api_key = env("OPENAI_API_KEY");
    if (o->base_url != NULL && o->base_url[0] == '\0')
        o->base_url = NULL;
    if (o->api_key != NULL && o->api_key[0] == '\0')
        o->api_key = NULL;
    o->groups = (only != 0 ? only : all) & ~skip;
    ret = validate(o, cause);
out:
    return ret;
}
