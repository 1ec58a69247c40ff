/* checks_tools: the tools group: a function forced with tool_choice is
 * called, well formed, plain and streamed as OpenAI streams it. */
#include "checks_tools.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "evidence.h"
#include "exchange.h"
#include "shape.h"
#include "stream_collect.h"

/* The function every request of the group forces. */
#define TOOL_NAME "get_weather"
/* Arguments are a few dozen bytes; more is a runaway stream. */
#define MAX_ARGUMENTS ((size_t)1 << 20)
/* The calls of one streamed choice that the walk follows. */
#define MAX_CALLS 16

enum { FORCED, CALL, STREAM, FIELDS };

static const struct check_def checks[] = {
    [FORCED] = {"tools.forced", LEVEL_MUST, BASIS_CLIENT,
                "A tool_choice that names a function MUST make the reply "
                "call that function, or the request MUST be refused with "
                "400",
                "docs/api.md#tools; docs/client-behaviour.md#tools",
                IMPACT_TOOLS_IGNORED},
    [CALL] = {"tools.call", LEVEL_MUST, BASIS_CLIENT,
              "Each tool call MUST name its function and carry arguments "
              "as a string that parses to a JSON object",
              "docs/api.md#tools; docs/client-behaviour.md#tools",
              IMPACT_TOOLS_ARGS_TEXT},
    [STREAM] = {"tools.stream", LEVEL_MUST, BASIS_CLIENT,
                "Streamed, each tool_calls item MUST carry its index; the "
                "deltas of each call, joined by index, MUST give arguments "
                "that parse to a JSON object, and the choice MUST get a "
                "finish_reason; each call SHOULD get its name, and the "
                "forced function SHOULD be called as it is without stream",
                "docs/api.md#tools; docs/client-behaviour.md#tools",
                IMPACT_TOOLS_STREAM_ARGS},
    [FIELDS] = {"tools.call-fields", LEVEL_SHOULD, BASIS_SPEC,
                "Each tool call SHOULD carry an id (a non-empty string) and "
                "type \"function\", streamed on its first delta together "
                "with function.name, later deltas changing neither; the "
                "choice SHOULD end with finish_reason tool_calls (or stop, "
                "as OpenAI ends a call forced by name)",
                "docs/api.md#tools", IMPACT_NONE},
};

/* The request of the group, streamed or not. New reference. */
static json_t *tools_body(const char *model, bool stream)
{
    json_t *body = json_pack(
        "{s:s, s:[{s:s, s:s}], s:[{s:s, s:{s:s, s:s, s:{s:s, s:{s:{s:s}, "
        "s:{s:s, s:[s, s]}}, s:[s, s], s:b}}}], s:{s:s, s:{s:s}}}",
        "model", model, "messages", "role", "user", "content",
        "What is the weather in Paris, in celsius?", "tools", "type",
        "function", "function", "name", TOOL_NAME, "description",
        "Get the current weather in a city", "parameters", "type", "object",
        "properties", "city", "type", "string", "unit", "type", "string",
        "enum", "celsius", "fahrenheit", "required", "city", "unit",
        "additionalProperties", 0, "tool_choice", "type", "function",
        "function", "name", TOOL_NAME);

    if (body != NULL && stream)
        json_object_set_new(body, "stream", json_true());
    return body;
}

/* True when text parses to a JSON object. */
static bool object_text(const char *text, size_t len)
{
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY, NULL);
    bool ok = json_is_object(v);

    json_decref(v);
    return ok;
}

/* True when finish_reason ends a call: tool_calls, or stop, which OpenAI
 * sends when tool_choice names the function. */
static bool call_finish(const char *fin)
{
    return fin != NULL &&
           (strcmp(fin, "tool_calls") == 0 || strcmp(fin, "stop") == 0);
}

/* Says in why what is wrong with the name or arguments of call i of a
 * plain reply (why stays as it was when nothing is), and returns what that
 * does to the clients measured (IMPACT_NONE: none measured breaks). */
static enum impact_id call_fault(const json_t *call, size_t i, char *why,
                                 size_t n)
{
    const json_t *fn = json_object_get(call, "function");
    const json_t *name = json_object_get(fn, "name");
    const json_t *args = json_object_get(fn, "arguments");
    enum impact_id ret = IMPACT_NONE;

    if (!json_is_string(name) || json_string_length(name) == 0) {
        /* Whether the forced function was called is tools.forced's. */
        snprintf(why, n, "tool_calls[%zu].function.name is %s", i,
                 json_is_string(name) ? "empty" : shape_type(name));
    } else if (!json_is_string(args)) {
        snprintf(why, n,
                 "tool_calls[%zu].function.arguments is %s, not a string "
                 "holding JSON",
                 i, shape_type(args));
        ret = IMPACT_TOOLS_ARGS_OBJECT;
    } else if (!object_text(json_string_value(args),
                            json_string_length(args))) {
        snprintf(why, n,
                 "tool_calls[%zu].function.arguments \"%.80s\" does not parse "
                 "to a JSON object",
                 i, json_string_value(args));
        ret = IMPACT_TOOLS_ARGS_TEXT;
    }
    return ret;
}

/* Says in why what is wrong with the id or type of call i of a plain
 * reply, or returns true. */
static bool fields_ok(const json_t *call, size_t i, char *why, size_t n)
{
    const json_t *id = json_object_get(call, "id");
    const json_t *type = json_object_get(call, "type");
    bool ret = false;

    if (!json_is_string(id) || json_string_length(id) == 0)
        snprintf(why, n, "tool_calls[%zu].id is %s", i,
                 json_is_string(id) ? "empty" : shape_type(id));
    else if (!json_is_string(type) ||
             strcmp(json_string_value(type), "function") != 0)
        snprintf(why, n, "tool_calls[%zu].type is %s%s, not \"function\"", i,
                 json_is_string(type) ? "" : shape_type(type),
                 json_is_string(type) ? json_string_value(type) : "");
    else
        ret = true;
    return ret;
}

/* The first choice of a completion. Borrowed. */
static json_t *first_choice(const json_t *completion)
{
    return json_array_get(json_object_get(completion, "choices"), 0);
}

/* True when the plain reply calls the forced function. */
static bool calls_forced(const json_t *calls)
{
    const json_t *call;
    const char *name;
    size_t i;
    bool ret = false;

    json_array_foreach(calls, i, call)
    {
        name = json_string_value(
            json_object_get(json_object_get(call, "function"), "name"));
        ret = ret || (name != NULL && strcmp(name, TOOL_NAME) == 0);
    }
    return ret;
}

/* What the group learned about the fields of the calls (tools.call-fields),
 * plain or streamed: the first deviation and its evidence. */
struct fields {
    char why[512];
    json_t *evidence; /* owned; NULL until a deviation */
    bool seen_call;   /* some reply called a function */
};

/* Notes the first deviation of the calls' fields. evidence is stolen. */
static void fields_note(struct fields *f, json_t *evidence, const char *what)
{
    if (f->evidence == NULL && what[0] != '\0') {
        snprintf(f->why, sizeof(f->why), "%s", what);
        f->evidence = evidence; /* f owns it now */
        evidence = NULL;
    }
    json_decref(evidence);
}

/* Judges tools.forced and tools.call on the plain reply, and notes how its
 * calls' fields deviate. Returns true when the server refused tools (so
 * the stream is not asked). */
static bool judge_plain(struct conform *c, const struct exchange *x,
                        struct fields *f)
{
    json_t *msg = json_object_get(first_choice(x->json), "message");
    json_t *calls = json_object_get(msg, "tool_calls"), *call;
    const char *fin = json_string_value(
        json_object_get(first_choice(x->json), "finish_reason"));
    const char *content = json_string_value(json_object_get(msg, "content"));
    char why[512] = "", fwhy[512] = "";
    enum impact_id impact = IMPACT_NONE;
    size_t i;
    bool refused = false;

    if (exchange_status_is(x, 400)) {
        /* With or without the error body (which tools.forced judges), a
         * 400 says tools are not served: the stream is not asked. */
        exchange_expect_error(c, &checks[FORCED], x, 400);
        refused = true;
        conform_skip(c, &checks[CALL], "tools are refused (see tools.forced)");
        goto out;
    }
    if (!exchange_status_is(x, 200) || !json_is_object(msg)) {
        conform_fail(c, &checks[FORCED],
                     exchange_evidence(x, x->json_error_offset),
                     "the request with tools got %s and no message, so the "
                     "check could not run",
                     conform_describe(c, &x->resp));
        conform_skip(c, &checks[CALL], "no reply (see tools.forced)");
        goto out;
    }
    if (!calls_forced(calls))
        conform_violation(
            c, &checks[FORCED], exchange_evidence(x, EVIDENCE_NO_FOCUS),
            "tool_choice names %s, but the reply calls %s%s%s", TOOL_NAME,
            json_array_size(calls) > 0 ? "other functions" : "no function",
            content != NULL ? " and says: " : "",
            content != NULL ? content : "");
    else
        conform_pass(c, &checks[FORCED],
                     exchange_evidence(x, EVIDENCE_NO_FOCUS),
                     "the reply calls %s", TOOL_NAME);
    if (json_array_size(calls) == 0) {
        conform_skip(c, &checks[CALL],
                     "the reply has no tool call (see tools.forced)");
        goto out;
    }
    f->seen_call = true;
    json_array_foreach(calls, i, call)
    {
        if (why[0] == '\0')
            impact = call_fault(call, i, why, sizeof(why));
        if (fwhy[0] == '\0')
            fields_ok(call, i, fwhy, sizeof(fwhy));
    }
    if (fwhy[0] == '\0' && !call_finish(fin))
        snprintf(fwhy, sizeof(fwhy),
                 "a reply that calls a tool ends with finish_reason %s",
                 fin != NULL ? fin : "missing");
    if (fwhy[0] != '\0')
        snprintf(fwhy + strlen(fwhy), sizeof(fwhy) - strlen(fwhy),
                 " (without stream)");
    fields_note(
        f, fwhy[0] != '\0' ? exchange_evidence(x, EVIDENCE_NO_FOCUS) : NULL,
        fwhy);
    if (why[0] != '\0')
        conform_finding(c, &checks[CALL],
                        impact != IMPACT_NONE ? FINDING_BREAK : FINDING_SPEC,
                        &impact, 1, exchange_evidence(x, EVIDENCE_NO_FOCUS),
                        "%s", why);
    else
        conform_pass(c, &checks[CALL], NULL,
                     "%zu call(s), each named, with arguments that parse "
                     "to a JSON object",
                     json_array_size(calls));
out:
    return refused;
}

/* One streamed call as the deltas build it. */
struct call_acc {
    bool seen;
    char id[128];
    char name[128];
    struct buf args;
};

/* What the walk through a streamed reply found. */
struct walk {
    struct call_acc calls[MAX_CALLS];
    size_t n_calls;
    const char *finish; /* borrowed from the log */
    size_t bad_event;   /* where why happened */
    enum finding kind;  /* how grave why is */
    enum impact_id impact;
    char why[512]; /* a fault of tools.stream */
    size_t fields_event;
    char fields[512]; /* the first deviation of tools.call-fields */
};

/* Notes the fault of tools.stream, how grave it is (a fault the matrix
 * shows breaking a client, or the spec's text only) and its impact. */
static void walk_fault(struct walk *w, enum finding kind, enum impact_id impact,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Notes the fault of tools.stream. */
static void walk_fault(struct walk *w, enum finding kind, enum impact_id impact,
                       const char *fmt, ...)
{
    va_list ap;

    w->kind = kind;
    w->impact = impact;
    va_start(ap, fmt);
    if (vsnprintf(w->why, sizeof(w->why), fmt, ap) < 0)
        w->why[0] = '\0';
    va_end(ap);
}

/* Notes a deviation of the fields at event i, the first one only. */
static void walk_fields(struct walk *w, size_t i, const char *what, long long k)
{
    if (w->fields[0] != '\0')
        return;
    w->fields_event = i;
    snprintf(w->fields, sizeof(w->fields), "event %zu: %s of call %lld", i,
             what, k);
}

/* Folds one tool_calls item of event i into the walk. */
static void walk_item(struct walk *w, size_t i, const json_t *item)
{
    const json_t *idx = json_object_get(item, "index");
    const json_t *fn = json_object_get(item, "function");
    const char *id = json_string_value(json_object_get(item, "id"));
    const char *type = json_string_value(json_object_get(item, "type"));
    const char *name = json_string_value(json_object_get(fn, "name"));
    const json_t *args = json_object_get(fn, "arguments");
    struct call_acc *a;
    json_int_t k = json_integer_value(idx);

    if (!shape_is_int(idx) || k < 0 || k >= MAX_CALLS) {
        walk_fault(w, FINDING_BREAK, IMPACT_TOOLS_STREAM_INDEX,
                   "event %zu: a tool_calls item has index %s", i,
                   shape_type(idx));
        goto out;
    }
    a = &w->calls[k];
    if (!a->seen) {
        a->seen = true;
        buf_init(&a->args, MAX_ARGUMENTS);
        if ((size_t)k + 1 > w->n_calls)
            w->n_calls = (size_t)k + 1;
        if (id == NULL || id[0] == '\0' || type == NULL ||
            strcmp(type, "function") != 0 || name == NULL || name[0] == '\0')
            walk_fields(w, i,
                        "the first delta lacks id, type \"function\" or "
                        "function.name",
                        (long long)k);
    } else if ((id != NULL && a->id[0] != '\0' && strcmp(id, a->id) != 0) ||
               (name != NULL && name[0] != '\0' && a->name[0] != '\0' &&
                strcmp(name, a->name) != 0)) {
        walk_fields(w, i, "a later delta changes the id or name", (long long)k);
    }
    if (id != NULL && a->id[0] == '\0')
        snprintf(a->id, sizeof(a->id), "%s", id);
    if (name != NULL && a->name[0] == '\0')
        snprintf(a->name, sizeof(a->name), "%s", name);
    if (args != NULL && !json_is_string(args)) {
        walk_fault(w, FINDING_SPEC, IMPACT_NONE,
                   "event %zu: the arguments of call %lld are %s, not a "
                   "string",
                   i, (long long)k, shape_type(args));
        goto out;
    }
    if (json_is_string(args) && buf_append(&a->args, json_string_value(args),
                                           json_string_length(args)) != 0)
        walk_fault(w, FINDING_BREAK, IMPACT_NONE,
                   "event %zu: the arguments of call %lld pass %zu bytes", i,
                   (long long)k, MAX_ARGUMENTS);
out:
    return;
}

/* Walks every chunk of the stream before [DONE], choice 0's tool calls
 * and finish_reason, stopping at the first fault. */
static void walk_stream(struct walk *w, const struct stream_log *l)
{
    const json_t *choice, *items, *item;
    const char *fin;
    size_t i, k;

    for (i = 0; i < l->n_events && i < l->done_index && w->why[0] == '\0';
         i++) {
        choice =
            json_array_get(json_object_get(l->events[i].json, "choices"), 0);
        items = json_object_get(json_object_get(choice, "delta"), "tool_calls");
        if (items != NULL && !json_is_array(items))
            walk_fault(w, FINDING_SPEC, IMPACT_NONE,
                       "event %zu: tool_calls is %s", i, shape_type(items));
        json_array_foreach(items, k, item)
        {
            if (w->why[0] == '\0')
                walk_item(w, i, item);
        }
        fin = json_string_value(json_object_get(choice, "finish_reason"));
        if (fin != NULL)
            w->finish = fin;
        w->bad_event = i;
    }
}

/* Judges what the walk built: each call's name and arguments, the forced
 * name, and that a finish_reason came. */
static void walk_judge(struct walk *w)
{
    size_t k;

    for (k = 0; k < w->n_calls && w->why[0] == '\0'; k++) {
        if (!w->calls[k].seen)
            walk_fault(w, FINDING_SPEC, IMPACT_NONE,
                       "call %zu never comes, though a later index does", k);
        else if (w->calls[k].name[0] == '\0')
            walk_fault(w, FINDING_SPEC, IMPACT_NONE,
                       "call %zu never gets a name", k);
        else if (!object_text(buf_str(&w->calls[k].args), w->calls[k].args.len))
            walk_fault(w, FINDING_BREAK, IMPACT_TOOLS_STREAM_ARGS,
                       "the arguments of call %zu, joined across the deltas, "
                       "are \"%.80s\", not a JSON object",
                       k, buf_str(&w->calls[k].args));
    }
    if (w->why[0] == '\0' && w->n_calls == 0)
        walk_fault(w, FINDING_SPEC, IMPACT_NONE,
                   "the streamed reply calls no function, though the plain "
                   "one calls %s",
                   TOOL_NAME);
    else if (w->why[0] == '\0' && strcmp(w->calls[0].name, TOOL_NAME) != 0)
        walk_fault(w, FINDING_SPEC, IMPACT_NONE,
                   "the streamed reply calls %s, not %s", w->calls[0].name,
                   TOOL_NAME);
    else if (w->why[0] == '\0' && w->finish == NULL)
        walk_fault(w, FINDING_BREAK, IMPACT_TOOLS_STREAM_FINISH,
                   "the streamed call never gets a finish_reason");
    else if (w->why[0] == '\0' && !call_finish(w->finish))
        snprintf(w->fields, sizeof(w->fields),
                 "the streamed call ends with finish_reason %s", w->finish);
}

/* The evidence of a stream, its events around event i (or none). */
static json_t *stream_evidence(const struct exchange *x,
                               const struct stream_log *l, size_t i)
{
    size_t focus =
        i < l->n_events ? (size_t)l->events[i].offset : EVIDENCE_NO_FOCUS;
    json_t *ev = exchange_evidence(x, focus);

    stream_log_add_events(l, ev, focus);
    return ev;
}

/* Judges tools.stream: the same request streamed; notes how its calls'
 * fields deviate. */
static void judge_stream(struct conform *c, bool plain_called, struct fields *f)
{
    const struct check_def *d = &checks[STREAM];
    struct exchange x;
    struct stream_log log;
    struct walk *w = calloc(1, sizeof(*w));
    size_t err, k;

    exchange_init(&x);
    exchange_send_stream(c, &x, tools_body(conform_model(c), true), &log);
    if (w == NULL) {
        conform_skip(c, d, "out of memory");
        goto out;
    }
    if (!stream_log_whole(&log, &x.resp)) {
        conform_violation(c, d, exchange_evidence(&x, EVIDENCE_NO_FOCUS),
                          "expected HTTP 200 and a whole stream, got %s%s",
                          conform_describe(c, &x.resp),
                          plain_called ? " (the plain request called the "
                                         "function)"
                                       : "");
        goto out;
    }
    if ((err = stream_log_error_event(&log)) != SIZE_MAX) {
        stream_log_describe_error(&log, err, w->why, sizeof(w->why));
        w->kind = FINDING_BREAK;
        w->impact = IMPACT_STREAM_ERROR_EVENT;
        w->bad_event = err;
    } else {
        walk_stream(w, &log);
        if (w->why[0] == '\0' && !plain_called && w->n_calls == 0) {
            conform_skip(c, d,
                         "no tool call, streamed or not (see tools.forced)");
            goto out;
        }
        if (w->why[0] == '\0')
            walk_judge(w);
    }
    f->seen_call = f->seen_call || w->n_calls > 0;
    if (w->fields[0] != '\0')
        fields_note(f, stream_evidence(&x, &log, w->fields_event), w->fields);
    if (w->why[0] != '\0')
        conform_finding(c, d, w->kind, &w->impact, 1,
                        stream_evidence(&x, &log, w->bad_event), "%s", w->why);
    else
        conform_pass(c, d, NULL,
                     "%zu call(s) streamed over %zu events, arguments %s, "
                     "finish_reason %s",
                     w->n_calls, log.n_events, buf_str(&w->calls[0].args),
                     w->finish);
out:
    for (k = 0; w != NULL && k < MAX_CALLS; k++)
        if (w->calls[k].seen)
            buf_cleanup(&w->calls[k].args);
    free(w);
    stream_log_cleanup(&log);
    exchange_cleanup(&x);
}

/* Runs the group: the forced call, plain, then streamed; then the fields
 * of the calls both made. */
static void run(struct conform *c)
{
    struct exchange x;
    struct fields f;
    bool refused, called;

    memset(&f, 0, sizeof(f));
    exchange_init(&x);
    exchange_send(c, &x, "POST", "/chat/completions",
                  conform_bearer(c, conform_options(c)->api_key),
                  tools_body(conform_model(c), false), NULL, false);
    refused = judge_plain(c, &x, &f);
    called = calls_forced(json_object_get(
        json_object_get(first_choice(x.json), "message"), "tool_calls"));
    if (refused)
        conform_skip(c, &checks[STREAM],
                     "tools are refused (see tools.forced)");
    else
        judge_stream(c, called, &f);
    if (refused)
        conform_skip(c, &checks[FIELDS],
                     "tools are refused (see "
                     "tools.forced)");
    else if (f.evidence != NULL)
        conform_violation(c, &checks[FIELDS], f.evidence, "%s", f.why);
    else if (!f.seen_call)
        conform_skip(c, &checks[FIELDS],
                     "no tool call to read (see "
                     "tools.forced)");
    else
        conform_pass(c, &checks[FIELDS], NULL,
                     "every call has an id and type function, and ends "
                     "with finish_reason tool_calls or stop");
    exchange_cleanup(&x);
}

const struct group_def group_tools = {
    .name = "tools",
    .about = "A function forced with tool_choice: the call, plain and "
             "streamed",
    .checks = checks,
    .n_checks = sizeof(checks) / sizeof(checks[0]),
    .needs_model = true,
    .missing = NULL,
    .run = run,
};
