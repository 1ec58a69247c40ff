/* checks_tools: the tools group: a function forced with tool_choice is
 * called, well formed, plain and streamed as OpenAI streams it. */
#include "checks_tools.h"

#include <stdint.h>
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

enum { FORCED, CALL, STREAM };

#define TOOLS_SPEC "OpenAI spec: ChatCompletionMessageToolCall"

static const struct check_def checks[] = {
    [FORCED] = {"tools.forced", LEVEL_SHOULD,
                "A tool_choice that names a function SHOULD make the reply "
                "call that function, or the request SHOULD be refused with "
                "400 and the error body",
                "OpenAI spec: CreateChatCompletionRequest.tool_choice "
                "(ChatCompletionNamedToolChoice forces the model to call "
                "that tool)",
                NULL},
    [CALL] = {"tools.call", LEVEL_MUST,
              "Each tool call MUST have an id (a non-empty string), type "
              "\"function\", the function's name and arguments that parse "
              "to a JSON object, and the choice MUST end with finish_reason "
              "tool_calls (or stop, as OpenAI ends a forced call)",
              TOOLS_SPEC " (required: id, type, function{name, "
                         "arguments}); CreateChatCompletionResponse.choices[]."
                         "finish_reason",
              NULL},
    [STREAM] = {"tools.stream", LEVEL_MUST,
                "Streamed, each tool_calls item MUST carry its index; the "
                "first delta of each call MUST carry its id, type "
                "\"function\" and function.name, later ones none other; "
                "the arguments, joined across the deltas, MUST parse to a "
                "JSON object; the choice MUST end with finish_reason "
                "tool_calls or stop",
                "OpenAI spec: ChatCompletionMessageToolCallChunk (required: "
                "index); ChatCompletionStreamResponseDelta.tool_calls",
                NULL},
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

/* Says in why what is wrong with call i of a plain reply, or returns
 * true. */
static bool call_ok(const json_t *call, size_t i, char *why, size_t n)
{
    const json_t *id = json_object_get(call, "id");
    const json_t *type = json_object_get(call, "type");
    const json_t *fn = json_object_get(call, "function");
    const json_t *name = json_object_get(fn, "name");
    const json_t *args = json_object_get(fn, "arguments");
    bool ret = false;

    if (!json_is_string(id) || json_string_length(id) == 0)
        snprintf(why, n, "tool_calls[%zu].id is %s", i,
                 json_is_string(id) ? "empty" : shape_type(id));
    else if (!json_is_string(type) ||
             strcmp(json_string_value(type), "function") != 0)
        snprintf(why, n, "tool_calls[%zu].type is %s%s, not \"function\"", i,
                 json_is_string(type) ? "" : shape_type(type),
                 json_is_string(type) ? json_string_value(type) : "");
    else if (!json_is_string(name))
        snprintf(why, n, "tool_calls[%zu].function.name is %s", i,
                 shape_type(name));
    else if (!json_is_string(args))
        snprintf(why, n,
                 "tool_calls[%zu].function.arguments is %s, not a string "
                 "holding JSON",
                 i, shape_type(args));
    else if (!object_text(json_string_value(args), json_string_length(args)))
        snprintf(why, n,
                 "tool_calls[%zu].function.arguments \"%.80s\" does not parse "
                 "to a JSON object",
                 i, json_string_value(args));
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

/* Judges tools.forced and tools.call on the plain reply. Returns true when
 * the server refused tools (so the stream is not judged either). */
static bool judge_plain(struct conform *c, const struct exchange *x)
{
    json_t *msg = json_object_get(first_choice(x->json), "message");
    json_t *calls = json_object_get(msg, "tool_calls"), *call;
    const char *fin = json_string_value(
        json_object_get(first_choice(x->json), "finish_reason"));
    const char *content = json_string_value(json_object_get(msg, "content"));
    char why[512] = "";
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
    if (!calls_forced(calls)) {
        conform_violation(
            c, &checks[FORCED], exchange_evidence(x, EVIDENCE_NO_FOCUS),
            "tool_choice names %s, but the reply calls %s%s%s", TOOL_NAME,
            json_array_size(calls) > 0 ? "other functions" : "no function",
            content != NULL ? " and says: " : "",
            content != NULL ? content : "");
    } else {
        conform_pass(c, &checks[FORCED],
                     exchange_evidence(x, EVIDENCE_NO_FOCUS),
                     "the reply calls %s", TOOL_NAME);
    }
    if (json_array_size(calls) == 0) {
        conform_skip(c, &checks[CALL],
                     "the reply has no tool call (see "
                     "tools.forced)");
        goto out;
    }
    json_array_foreach(calls, i, call)
    {
        if (why[0] == '\0')
            call_ok(call, i, why, sizeof(why));
    }
    if (why[0] == '\0' && !call_finish(fin))
        snprintf(why, sizeof(why),
                 "a reply that calls a tool ends with finish_reason %s",
                 fin != NULL ? fin : "missing");
    if (why[0] != '\0')
        conform_violation(c, &checks[CALL],
                          exchange_evidence(x, EVIDENCE_NO_FOCUS), "%s", why);
    else
        conform_pass(c, &checks[CALL], NULL,
                     "%zu well-formed call(s), finish_reason %s",
                     json_array_size(calls), fin);
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
    char why[512];
};

/* Folds one tool_calls item of event i into the walk; says in w->why what
 * is wrong with it. */
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
        snprintf(w->why, sizeof(w->why),
                 "event %zu: a tool_calls item has index %s", i,
                 shape_type(idx));
        goto out;
    }
    a = &w->calls[k];
    if (!a->seen) {
        if (id == NULL || id[0] == '\0' || type == NULL ||
            strcmp(type, "function") != 0 || name == NULL || name[0] == '\0') {
            snprintf(w->why, sizeof(w->why),
                     "event %zu: the first delta of call %lld has id %s, "
                     "type %s and function.name %s; it needs all three",
                     i, (long long)k, id != NULL ? id : "missing",
                     type != NULL ? type : "missing",
                     name != NULL ? name : "missing");
            goto out;
        }
        a->seen = true;
        snprintf(a->id, sizeof(a->id), "%s", id);
        snprintf(a->name, sizeof(a->name), "%s", name);
        buf_init(&a->args, MAX_ARGUMENTS);
        if ((size_t)k + 1 > w->n_calls)
            w->n_calls = (size_t)k + 1;
    } else if ((id != NULL && strcmp(id, a->id) != 0) ||
               (name != NULL && name[0] != '\0' &&
                strcmp(name, a->name) != 0)) {
        snprintf(w->why, sizeof(w->why),
                 "event %zu: a later delta of call %lld changes its %s", i,
                 (long long)k,
                 id != NULL && strcmp(id, a->id) != 0 ? "id" : "name");
        goto out;
    }
    if (args != NULL && !json_is_string(args)) {
        snprintf(w->why, sizeof(w->why),
                 "event %zu: the arguments of call %lld are %s, not a "
                 "string",
                 i, (long long)k, shape_type(args));
        goto out;
    }
    if (json_is_string(args) && buf_append(&a->args, json_string_value(args),
                                           json_string_length(args)) != 0)
        snprintf(w->why, sizeof(w->why),
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
            snprintf(w->why, sizeof(w->why), "event %zu: tool_calls is %s", i,
                     shape_type(items));
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

/* Judges what the walk built: the calls' arguments and the forced name,
 * and finish_reason. */
static void walk_judge(struct walk *w)
{
    size_t k;

    for (k = 0; k < w->n_calls && w->why[0] == '\0'; k++) {
        if (!w->calls[k].seen)
            snprintf(w->why, sizeof(w->why),
                     "call %zu never comes, though "
                     "a later index does",
                     k);
        else if (!object_text(buf_str(&w->calls[k].args), w->calls[k].args.len))
            snprintf(w->why, sizeof(w->why),
                     "the arguments of call %zu, joined across the deltas, "
                     "are \"%.80s\", not a JSON object",
                     k, buf_str(&w->calls[k].args));
    }
    if (w->why[0] == '\0' && w->n_calls == 0)
        snprintf(w->why, sizeof(w->why),
                 "the streamed reply calls no function, though the plain "
                 "one calls %s",
                 TOOL_NAME);
    else if (w->why[0] == '\0' && strcmp(w->calls[0].name, TOOL_NAME) != 0)
        snprintf(w->why, sizeof(w->why), "the streamed reply calls %s, not %s",
                 w->calls[0].name, TOOL_NAME);
    else if (w->why[0] == '\0' && !call_finish(w->finish))
        snprintf(w->why, sizeof(w->why),
                 "the streamed call ends with finish_reason %s",
                 w->finish != NULL ? w->finish : "missing");
}

/* Judges tools.stream: the same request streamed. */
static void judge_stream(struct conform *c, bool plain_called)
{
    const struct check_def *d = &checks[STREAM];
    struct exchange x;
    struct stream_log log;
    struct walk *w = calloc(1, sizeof(*w));
    json_t *ev;
    size_t err, k;

    exchange_init(&x);
    memset(&log, 0, sizeof(log));
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
        w->bad_event = err;
    } else {
        walk_stream(w, &log);
        if (w->why[0] == '\0' && !plain_called && w->n_calls == 0) {
            conform_skip(c, d,
                         "no tool call, streamed or not (see "
                         "tools.forced)");
            goto out;
        }
        if (w->why[0] == '\0')
            walk_judge(w);
    }
    if (w->why[0] != '\0') {
        ev = exchange_evidence(&x, w->bad_event < log.n_events
                                       ? (size_t)log.events[w->bad_event].offset
                                       : EVIDENCE_NO_FOCUS);
        stream_log_add_events(&log, ev,
                              w->bad_event < log.n_events
                                  ? (size_t)log.events[w->bad_event].offset
                                  : EVIDENCE_NO_FOCUS);
        conform_violation(c, d, ev, "%s", w->why);
    } else {
        conform_pass(c, d, NULL,
                     "%zu call(s) streamed over %zu events, arguments %s, "
                     "finish_reason %s",
                     w->n_calls, log.n_events, buf_str(&w->calls[0].args),
                     w->finish);
    }
out:
    for (k = 0; w != NULL && k < MAX_CALLS; k++)
        if (w->calls[k].seen)
            buf_cleanup(&w->calls[k].args);
    free(w);
    stream_log_cleanup(&log);
    exchange_cleanup(&x);
}

/* Runs the group: the forced call, plain, then streamed. */
static void run(struct conform *c)
{
    struct exchange x;
    bool refused, called;

    exchange_init(&x);
    exchange_send(c, &x, "POST", "/chat/completions",
                  conform_bearer(c, conform_options(c)->api_key),
                  tools_body(conform_model(c), false), NULL, false);
    refused = judge_plain(c, &x);
    called = calls_forced(json_object_get(
        json_object_get(first_choice(x.json), "message"), "tool_calls"));
    if (refused)
        conform_skip(c, &checks[STREAM],
                     "tools are refused (see "
                     "tools.forced)");
    else
        judge_stream(c, called);
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
