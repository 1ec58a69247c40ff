/* test_reports: the results list and every report, on hostile text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "impact.h"
#include "result.h"
#include "testutil.h"

extern char **environ;

/* Text a hostile or broken server could put in a message: markup, quotes,
 * a terminal escape, a tab and a newline, bad UTF-8 (FF, FE), non-ASCII, a
 * CDATA end, a C1 control (U+0085) and a noncharacter (U+FFFE). */
#define WEIRD                                                                  \
    "quote \" apos ' lt < gt > amp & ctl \x01\x1b[31m tab\t nl\n bad "         \
    "\xff\xfe end \xc3\xa9 \xe4\xb8\xad <script>alert(1)</script> ]]> c1 "     \
    "\xc2\x85 nonchar \xef\xbf\xbe"

/* WEIRD as the list stores it: each bad byte is U+FFFD. */
#define WEIRD_CLEAN                                                            \
    "quote \" apos ' lt < gt > amp & ctl \x01\x1b[31m tab\t nl\n bad "         \
    "\xef\xbf\xbd\xef\xbf\xbd end \xc3\xa9 \xe4\xb8\xad "                      \
    "<script>alert(1)</script> ]]> c1 \xc2\x85 nonchar \xef\xbf\xbe"

/* WEIRD in an XML attribute: controls as control pictures, tab and LF as
 * references, U+FFFE as U+FFFD. */
#define WEIRD_XML_ATTR                                                         \
    "quote &quot; apos &apos; lt &lt; gt &gt; amp &amp; ctl "                  \
    "\xe2\x90\x81\xe2\x90\x9b[31m tab&#9; nl&#10; bad "                        \
    "\xef\xbf\xbd\xef\xbf\xbd end \xc3\xa9 \xe4\xb8\xad "                      \
    "&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt; c1 \xc2\x85 nonchar "        \
    "\xef\xbf\xbd"

/* What an XML parser reads back from that attribute. */
#define WEIRD_XML_VALUE                                                        \
    "quote \" apos ' lt < gt > amp & ctl \xe2\x90\x81\xe2\x90\x9b[31m "        \
    "tab\t nl\n bad \xef\xbf\xbd\xef\xbf\xbd end \xc3\xa9 \xe4\xb8\xad "       \
    "<script>alert(1)</script> ]]> c1 \xc2\x85 nonchar \xef\xbf\xbd"

/* WEIRD in HTML text: the C1 control becomes U+FFFD as well. */
#define WEIRD_HTML                                                             \
    "quote &quot; apos &#39; lt &lt; gt &gt; amp &amp; ctl "                   \
    "\xe2\x90\x81\xe2\x90\x9b[31m tab\t nl\n bad "                             \
    "\xef\xbf\xbd\xef\xbf\xbd end \xc3\xa9 \xe4\xb8\xad "                      \
    "&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt; c1 \xef\xbf\xbd nonchar "    \
    "\xef\xbf\xbd"

/* What a parser reads back from WEIRD_HTML. */
#define WEIRD_HTML_VALUE                                                       \
    "quote \" apos ' lt < gt > amp & ctl \xe2\x90\x81\xe2\x90\x9b[31m "        \
    "tab\t nl\n bad \xef\xbf\xbd\xef\xbf\xbd end \xc3\xa9 \xe4\xb8\xad "       \
    "<script>alert(1)</script> ]]> c1 \xef\xbf\xbd nonchar \xef\xbf\xbd"

/* WEIRD on a terminal: every control as a backslash escape. */
#define WEIRD_TERM                                                             \
    "quote \" apos ' lt < gt > amp & ctl \\x01\\x1b[31m tab\\t nl\\n bad "     \
    "\xef\xbf\xbd\xef\xbf\xbd end \xc3\xa9 \xe4\xb8\xad "                      \
    "<script>alert(1)</script> ]]> c1 \\u0085 nonchar \xef\xbf\xbe"

#define RULE_WEIRD "The last event MUST be data: [DONE] & nothing after <it>"
#define BASE_URL "http://127.0.0.1:8080/v1?a=1&b=<2>"

static const struct report_meta test_meta = {
    .base_url = BASE_URL,
    .model = "deepseek-v4",
    .profile = "ai-nexus",
    .version = "0.1.0",
    .started = "2026-01-02T03:04:05Z",
    .duration_s = 1.25,
    .mode = "strict",
};

typedef int (*report_fn)(const struct results *, const struct report_meta *,
                         FILE *);

/* The evidence of the failing stream check, with bad UTF-8 in a value and
 * in a key, markup, and a CDATA end. */
static json_t *weird_evidence(void)
{
    json_t *ev, *resp;

    ev = json_pack("{s:{s:s, s:s}}", "request", "method", "POST", "path",
                   "/v1/chat/completions");
    assert_non_null(ev);
    resp = json_object();
    assert_non_null(resp);
    assert_int_equal(json_object_set_new(resp, "status", json_integer(200)), 0);
    assert_int_equal(
        json_object_set_new(resp, "body",
                            json_stringn_nocheck("data: \xff<b>]]>", 13)),
        0);
    assert_int_equal(
        json_object_set_new(resp, "html",
                            json_string("</script><script>alert(2)</script>")),
        0);
    assert_int_equal(json_object_set_new_nocheck(resp, "k\xff", json_true()),
                     0);
    assert_int_equal(json_object_set_new(ev, "response", resp), 0);
    return ev;
}

/* The same evidence as the list must store it. */
static json_t *weird_evidence_clean(void)
{
    json_t *ev =
        json_pack("{s:{s:s, s:s}, s:{s:i, s:s, s:s, s:b}}", "request", "method",
                  "POST", "path", "/v1/chat/completions", "response", "status",
                  200, "body", "data: \xef\xbf\xbd<b>]]>", "html",
                  "</script><script>alert(2)</script>", "k\xef\xbf\xbd", 1);

    assert_non_null(ev);
    return ev;
}

/* Adds one result and sets its duration. */
static void add(struct results *r, const char *id, const char *group,
                enum check_status st, const char *rule, const char *source,
                json_t *ev, const char *msg, double ms)
{
    struct check_result *c =
        results_add(r, id, group, st, rule, source, ev, "%s", msg);

    assert_non_null(c);
    c->duration_ms = ms;
}

/* What the failure of stream.done-last breaks, and how to mend it. */
#define IMPACT "the AI SDK appends the event after [DONE] to the text"
#define FIX "Send nothing after the data: [DONE] event."

/* Six results: every status, two groups seen twice and apart; the
 * failure carries the level, basis and impacts the engine would give it. */
static void build(struct results *r)
{
    static const enum impact_id after_done = IMPACT_STREAM_AFTER_DONE;

    results_init(r);
    add(r, "models.list", "models", CHECK_PASS,
        "The list MUST have object \"list\"", "OpenAI spec: ListModelsResponse",
        NULL, "3 models listed", 12);
    add(r, "stream.done-last", "stream", CHECK_FAIL, RULE_WEIRD,
        "OpenAI spec: CreateChatCompletionStreamResponse", weird_evidence(),
        WEIRD, 3);
    add(r, "params.error-param", "params", CHECK_WARN,
        "The error's param SHOULD name the field", "AI Nexus reference",
        json_pack("{s:{s:i, s:{s:{s:n}}}}", "response", "status", 400, "body",
                  "error", "param"),
        "param was null for \"temperature\"", 40);
    add(r, "billing.balance", "billing", CHECK_SKIP,
        "GET /balance MUST return the balance", "AI Nexus reference", NULL,
        "needs --profile ai-nexus", 0);
    add(r, "models.get", "models", CHECK_FAIL,
        "GET /models/{id} MUST return the model", "OpenAI spec",
        json_pack("{s:i}", "status", 500),
        "GET /v1/models/x gave 500 & <nothing>", 7);
    add(r, "stream.content-type", "stream", CHECK_PASS,
        "Content-Type MUST be text/event-stream", "WHATWG HTML", NULL,
        "text/event-stream", 1);
    assert_int_equal(results_describe(&r->items[1], "MUST", IMPACT, FIX), 0);
    assert_int_equal(
        results_classify(&r->items[1], "client", impact_json(&after_done, 1)),
        0);
    assert_int_equal(results_describe(&r->items[2], "SHOULD", NULL,
                                      "Set error.param to the field."),
                     0);
}

/* Runs a report writer into memory and returns the bytes (NUL-ended). */
static char *render(report_fn fn, const struct results *r,
                    const struct report_meta *m, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);

    assert_non_null(f);
    assert_int_equal(fn(r, m, f), 0);
    assert_int_equal(fclose(f), 0);
    if (len != NULL)
        *len = n;
    return buf;
}

/* Writes the bytes to a fresh temporary file whose path lands in path. */
static void write_temp(const char *data, size_t len, char *path, size_t size)
{
    int fd;

    assert_true(size > strlen("/tmp/nexus-report-XXXXXX"));
    memcpy(path, "/tmp/nexus-report-XXXXXX",
           strlen("/tmp/nexus-report-XXXXXX") + 1);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

/* Runs argv (found on PATH) and returns its stdout; *status gets its exit
 * status, or -1 if it could not be started. */
static char *run_tool(char *const argv[], int *status)
{
    int fds[2], ws = 0;
    pid_t pid;
    posix_spawn_file_actions_t fa;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    ssize_t got;

    assert_int_equal(pipe(fds), 0);
    assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        close(fds[0]);
        close(fds[1]);
        *status = -1;
        return NULL;
    }
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    for (;;) {
        if (cap - len < 4096) {
            char *nb;

            cap = cap ? cap * 2 : 8192;
            nb = realloc(buf, cap);
            assert_non_null(nb);
            buf = nb;
        }
        got = read(fds[0], buf + len, cap - len - 1);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(fds[0]);
    if (buf == NULL) {
        buf = malloc(1);
        assert_non_null(buf);
    }
    buf[len] = '\0';
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128;
    return buf;
}

/* Evaluates an XPath expression on an XML file with xmllint and returns
 * the result without xmllint's trailing newline. */
static char *xpath(const char *file, const char *expr)
{
    char *argv[] = {"xmllint", "--xpath", (char *)expr, (char *)file, NULL};
    int status;
    char *out = run_tool(argv, &status);
    size_t n;

    if (status == -1)
        fail_msg("xmllint not found: install the Debian package "
                 "libxml2-utils");
    assert_int_equal(status, 0);
    n = strlen(out);
    if (n > 0 && out[n - 1] == '\n')
        out[n - 1] = '\0';
    return out;
}

/* Asserts that the XPath expression on the file at path gives want. */
static void xpath_is(const char *path, const char *expr, const char *want)
{
    char *v = xpath(path, expr);

    assert_string_equal(v, want);
    free(v);
}

/* Asserts that needle occurs in hay, showing both when it does not. */
static const char *must_contain(const char *hay, const char *needle)
{
    const char *at = strstr(hay, needle);

    if (at == NULL)
        fail_msg("missing:\n%s\n--- in:\n%s", needle, hay);
    return at;
}

/* Returns the JUnit schema's path, or NULL (the test skips) when the
 * source tree is not known. */
static char *schema_path(void)
{
    const char *dir = getenv("NEXUS_SOURCE_DIR");
    static const char rel[] = "/conformance/tests/junit.xsd";
    char *path;
    size_t n;

    if (dir == NULL || dir[0] == '\0')
        return NULL;
    n = strlen(dir);
    path = malloc(n + sizeof(rel));
    assert_non_null(path);
    memcpy(path, dir, n);
    memcpy(path + n, rel, sizeof(rel));
    return path;
}

/* results_add stores every field, NULL text as "", and borrows back. */
static void test_results_add(void **state)
{
    struct results r;
    struct check_result *c;
    struct results_summary s;

    (void)state;
    results_init(&r);
    c = results_add(&r, "a.b", "chat", CHECK_WARN, NULL, "src", NULL,
                    "%d of %s", 3, "four");
    assert_non_null(c);
    assert_ptr_equal(c, &r.items[0]);
    assert_string_equal(c->id, "a.b");
    assert_string_equal(c->group, "chat");
    assert_int_equal(c->status, CHECK_WARN);
    assert_string_equal(c->message, "3 of four");
    assert_string_equal(c->rule, "");
    assert_string_equal(c->source, "src");
    assert_null(c->evidence);
    assert_true(c->duration_ms == 0);
    s = results_summarize(&r);
    assert_int_equal(s.warned, 1);
    assert_int_equal(s.passed + s.failed + s.skipped, 0);
    results_cleanup(&r);
    assert_int_equal(r.n, 0);
    assert_null(r.items);
    results_cleanup(&r);
}

/* Many results grow the array; the summary counts each status. */
static void test_results_many(void **state)
{
    struct results r;
    struct results_summary s;
    size_t i;

    (void)state;
    results_init(&r);
    for (i = 0; i < 1000; i++)
        assert_non_null(results_add(&r, "x", "g", (enum check_status)(i % 4),
                                    "r", "s", json_integer((json_int_t)i),
                                    "check %zu", i));
    assert_int_equal(r.n, 1000);
    assert_string_equal(r.items[999].message, "check 999");
    assert_int_equal(json_integer_value(r.items[999].evidence), 999);
    s = results_summarize(&r);
    assert_int_equal(s.passed, 250);
    assert_int_equal(s.failed, 250);
    assert_int_equal(s.warned, 250);
    assert_int_equal(s.skipped, 250);
    results_cleanup(&r);
}

/* The status names are the JSON report's words; the labels, the terminal
 * and HTML reports'. */
static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(check_status_name(CHECK_PASS), "pass");
    assert_string_equal(check_status_name(CHECK_FAIL), "fail");
    assert_string_equal(check_status_name(CHECK_WARN), "warn");
    assert_string_equal(check_status_name(CHECK_SKIP), "skip");
    assert_string_equal(check_status_name((enum check_status)42), "unknown");
    assert_string_equal(check_status_label(CHECK_PASS), "PASS");
    assert_string_equal(check_status_label(CHECK_FAIL), "FAIL");
    assert_string_equal(check_status_label(CHECK_WARN), "WARN");
    assert_string_equal(check_status_label(CHECK_SKIP), "SKIP");
    assert_string_equal(check_status_label((enum check_status)42), "????");
}

/* Each byte outside well-formed UTF-8 becomes one U+FFFD. */
static void test_utf8_clean(void **state)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"plain", "plain"},
        {"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80", "\xc3\xa9\xe4\xb8\xad"
                                                 "\xf0\x9f\x98\x80"},
        {"\xff", "\xef\xbf\xbd"},
        {"\xc0\x80", "\xef\xbf\xbd\xef\xbf\xbd"}, /* overlong */
        {"\xe0\x9f\xbf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xf4\x90\x80\x80x", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                              "\xef\xbf\xbdx"},
        {"a\xe2\x82", "a\xef\xbf\xbd\xef\xbf\xbd"}, /* cut short */
        {"\xe2\x28\xa1", "\xef\xbf\xbd(\xef\xbf\xbd"},
        {"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"}, /* U+10FFFF */
        {"", ""},
    };
    size_t i;
    char *s;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        s = results_utf8_clean(cases[i].in, strlen(cases[i].in));
        assert_non_null(s);
        assert_string_equal(s, cases[i].out);
        free(s);
    }
    s = results_utf8_clean(NULL, 5);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
    /* The length is honoured: bytes after it are not read. */
    s = results_utf8_clean("ab\xff", 2);
    assert_string_equal(s, "ab");
    free(s);
}

/* Every stored string is valid UTF-8, message included. */
static void test_results_clean_text(void **state)
{
    struct results r;
    struct check_result *c;

    (void)state;
    results_init(&r);
    c = results_add(&r, "id\xff", "g\xfe", CHECK_FAIL, "r\xc0", "s\x80", NULL,
                    "%s", WEIRD);
    assert_non_null(c);
    assert_string_equal(c->id, "id\xef\xbf\xbd");
    assert_string_equal(c->group, "g\xef\xbf\xbd");
    assert_string_equal(c->rule, "r\xef\xbf\xbd");
    assert_string_equal(c->source, "s\xef\xbf\xbd");
    assert_string_equal(c->message, WEIRD_CLEAN);
    results_cleanup(&r);
}

/* A long message is cut at the cap, never inside a UTF-8 sequence. */
static void test_results_message_cap(void **state)
{
    struct results r;
    struct check_result *c;
    char *big = malloc(10001);
    size_t n;

    (void)state;
    assert_non_null(big);
    memset(big, 'a', 10000);
    big[10000] = '\0';
    results_init(&r);
    c = results_add(&r, "x", "g", CHECK_FAIL, "", "", NULL, "%s", big);
    assert_non_null(c);
    n = strlen(c->message);
    assert_int_equal(n, 4096 + 3);
    assert_string_equal(c->message + 4096, "...");
    /* An "é" straddling the cap is dropped whole. */
    memcpy(big + 4095, "\xc3\xa9", 2);
    c = results_add(&r, "x", "g", CHECK_FAIL, "", "", NULL, "%s", big);
    assert_non_null(c);
    assert_int_equal(strlen(c->message), 4095 + 3);
    assert_null(strstr(c->message, "\xef\xbf\xbd"));
    assert_string_equal(c->message + 4095, "...");
    results_cleanup(&r);
    free(big);
}

/* Clean evidence is kept as given; bad evidence is replaced by a clean
 * copy, and evidence nested too deep is cut off. */
static void test_results_evidence(void **state)
{
    struct results r;
    struct check_result *c;
    json_t *ev, *want, *v;
    int i;

    (void)state;
    results_init(&r);
    ev = json_pack("{s:s}", "a", "\xc3\xa9");
    c = results_add(&r, "x", "g", CHECK_PASS, "", "", ev, "ok");
    assert_ptr_equal(c->evidence, ev);

    c = results_add(&r, "y", "g", CHECK_FAIL, "", "", weird_evidence(), "x");
    want = weird_evidence_clean();
    assert_true(json_equal(c->evidence, want));
    json_decref(want);

    ev = json_array();
    v = ev;
    for (i = 0; i < 100; i++) {
        json_t *inner = json_array();

        assert_int_equal(json_array_append_new(v, inner), 0);
        v = inner;
    }
    c = results_add(&r, "z", "g", CHECK_FAIL, "", "", ev, "deep");
    assert_non_null(c);
    v = c->evidence;
    for (i = 0; i < 65; i++) {
        assert_true(json_is_array(v));
        v = json_array_get(v, 0);
    }
    assert_string_equal(json_string_value(v), "(evidence nested too deeply)");
    results_cleanup(&r);
}

/* The JSON report says exactly what the list holds. */
static void test_json_report(void **state)
{
    struct results r;
    char *text;
    size_t len, i;
    json_t *doc, *meta, *checks, *c, *want;
    json_error_t err;
    static const char *const ids[] = {
        "models.list",     "stream.done-last", "params.error-param",
        "billing.balance", "models.get",       "stream.content-type"};
    static const char *const statuses[] = {"pass", "fail", "warn",
                                           "skip", "fail", "pass"};

    (void)state;
    build(&r);
    text = render(report_json_write, &r, &test_meta, &len);
    /* Pretty-printed with two spaces, meta first. */
    assert_memory_equal(text,
                        "{\n  \"meta\": {\n    \"tool\": \"nexus-conform\"",
                        strlen("{\n  \"meta\": {\n    \"tool\": "
                               "\"nexus-conform\""));
    assert_int_equal(text[len - 1], '\n');
    doc = json_loadb(text, len, 0, &err);
    if (doc == NULL)
        fail_msg("not JSON: %s at %d:%d", err.text, err.line, err.column);

    meta = json_object_get(doc, "meta");
    assert_string_equal(json_string_value(json_object_get(meta, "base_url")),
                        BASE_URL);
    assert_string_equal(json_string_value(json_object_get(meta, "model")),
                        "deepseek-v4");
    assert_string_equal(json_string_value(json_object_get(meta, "profile")),
                        "ai-nexus");
    assert_string_equal(json_string_value(json_object_get(meta, "version")),
                        "0.1.0");
    assert_string_equal(json_string_value(json_object_get(meta, "started")),
                        "2026-01-02T03:04:05Z");
    assert_true(json_real_value(json_object_get(meta, "duration_s")) == 1.25);
    assert_string_equal(json_string_value(json_object_get(meta, "mode")),
                        "strict");

    checks = json_object_get(doc, "checks");
    assert_int_equal(json_array_size(checks), 6);
    for (i = 0; i < 6; i++) {
        c = json_array_get(checks, i);
        assert_int_equal(json_object_size(c), 12);
        assert_string_equal(json_string_value(json_object_get(c, "id")),
                            ids[i]);
        assert_string_equal(json_string_value(json_object_get(c, "status")),
                            statuses[i]);
        assert_string_equal(json_string_value(json_object_get(c, "group")),
                            r.items[i].group);
        assert_string_equal(json_string_value(json_object_get(c, "rule")),
                            r.items[i].rule);
        assert_string_equal(json_string_value(json_object_get(c, "source")),
                            r.items[i].source);
    }
    /* Level, impact and fix are their own fields, null when unknown. */
    c = json_array_get(checks, 0);
    assert_true(json_is_null(json_object_get(c, "level")));
    assert_true(json_is_null(json_object_get(c, "impact")));
    assert_true(json_is_null(json_object_get(c, "fix")));
    c = json_array_get(checks, 2);
    assert_string_equal(json_string_value(json_object_get(c, "level")),
                        "SHOULD");
    assert_true(json_is_null(json_object_get(c, "impact")));
    c = json_array_get(checks, 1);
    assert_string_equal(json_string_value(json_object_get(c, "level")), "MUST");
    assert_string_equal(json_string_value(json_object_get(c, "impact")),
                        IMPACT);
    assert_string_equal(json_string_value(json_object_get(c, "fix")), FIX);
    assert_string_equal(json_string_value(json_object_get(c, "basis")),
                        "client");
    want = json_pack("[{s:s, s:s, s:n, s:[{s:s, s:s, s:b, s:n}]}]", "id",
                     "stream.done-last/event", "check", "stream.done-last",
                     "consequence", "effects", "client", "ai-sdk", "effect",
                     "appends the event after [DONE] to the text its user "
                     "sees",
                     "measured", 1, "from");
    assert_true(json_equal(json_object_get(c, "impacts"), want));
    json_decref(want);
    assert_true(
        json_is_null(json_object_get(json_array_get(checks, 0), "impacts")));
    assert_string_equal(json_string_value(json_object_get(c, "message")),
                        WEIRD_CLEAN);
    assert_string_equal(json_string_value(json_object_get(c, "rule")),
                        RULE_WEIRD);
    want = weird_evidence_clean();
    assert_true(json_equal(json_object_get(c, "evidence"), want));
    json_decref(want);
    assert_true(
        json_is_null(json_object_get(json_array_get(checks, 0), "evidence")));
    want = json_pack("{s:i}", "status", 500);
    assert_true(json_equal(
        json_object_get(json_array_get(checks, 4), "evidence"), want));
    json_decref(want);

    want = json_pack("{s:i, s:i, s:i, s:i}", "passed", 2, "failed", 2, "warned",
                     1, "skipped", 1);
    assert_true(json_equal(json_object_get(doc, "summary"), want));
    json_decref(want);
    assert_int_equal(json_object_size(doc), 3);
    json_decref(doc);
    free(text);
    results_cleanup(&r);
}

/* Without meta and without results the document keeps its shape. */
static void test_json_report_empty(void **state)
{
    struct results r;
    char *text;
    json_t *doc, *want;

    (void)state;
    results_init(&r);
    text = render(report_json_write, &r, NULL, NULL);
    doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    want = json_pack("{s:{s:s, s:n, s:n, s:n, s:n, s:n, s:f, s:n}, s:[], "
                     "s:{s:i, s:i, s:i, s:i}}",
                     "meta", "tool", "nexus-conform", "version", "base_url",
                     "model", "profile", "started", "duration_s", 0.0, "mode",
                     "checks", "summary", "passed", 0, "failed", 0, "warned", 0,
                     "skipped", 0);
    assert_true(json_equal(doc, want));
    json_decref(want);
    json_decref(doc);
    free(text);
}

/* The JUnit report: exact counts per suite, groups in first-seen order,
 * escaping that an XML parser reads back exactly, and the schema. */
static void test_junit_report(void **state)
{
    struct results r;
    char *text, *v;
    size_t len;
    char path[64];
    const char *at, *prev;
    static const char *const suites[] = {
        "  <testsuite name=\"models\" tests=\"2\" failures=\"1\" errors=\"0\""
        " skipped=\"0\" time=\"0.019\" timestamp=\"2026-01-02T03:04:05Z\">\n",
        "  <testsuite name=\"stream\" tests=\"2\" failures=\"1\" errors=\"0\""
        " skipped=\"0\" time=\"0.004\" timestamp=\"2026-01-02T03:04:05Z\">\n",
        "  <testsuite name=\"params\" tests=\"1\" failures=\"0\" errors=\"0\""
        " skipped=\"0\" time=\"0.040\" timestamp=\"2026-01-02T03:04:05Z\">\n",
        "  <testsuite name=\"billing\" tests=\"1\" failures=\"0\" errors=\"0\""
        " skipped=\"1\" time=\"0.000\" timestamp=\"2026-01-02T03:04:05Z\">\n",
    };
    size_t i;

    (void)state;
    build(&r);
    text = render(report_junit_write, &r, &test_meta, &len);
    must_contain(text, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<testsuites name=\"nexus-conform\" tests=\"6\" "
                       "failures=\"2\" errors=\"0\" time=\"1.250\">\n");
    assert_ptr_equal(strstr(text, "<?xml"), text);
    prev = text;
    for (i = 0; i < 4; i++) {
        at = must_contain(text, suites[i]);
        assert_true(at > prev);
        prev = at;
    }
    must_contain(text,
                 "      <property name=\"base_url\" "
                 "value=\"http://127.0.0.1:8080/v1?a=1&amp;b=&lt;2&gt;\"/>\n");
    must_contain(text, "      <property name=\"mode\" value=\"strict\"/>\n");
    must_contain(text, "    <testcase name=\"models.list\" "
                       "classname=\"nexus-conform.models\" time=\"0.012\"/>\n");
    must_contain(text, "    <testcase name=\"stream.done-last\" "
                       "classname=\"nexus-conform.stream\" time=\"0.003\">\n"
                       "      <failure message=\"" WEIRD_XML_ATTR
                       "\" type=\"MUST\">Rule: The last event MUST be data: "
                       "[DONE] &amp; nothing after &lt;it&gt;\n"
                       "Source: OpenAI spec: "
                       "CreateChatCompletionStreamResponse\nImpact: " IMPACT
                       "\nFix: " FIX "\nEvidence:\n{\n"
                       "  \"request\": {\n");
    must_contain(text,
                 "    \"body\": \"data: \xef\xbf\xbd&lt;b&gt;]]&gt;\",\n");
    must_contain(text, "      <failure message=\"GET /v1/models/x gave 500 "
                       "&amp; &lt;nothing&gt;\" type=\"MUST\">Rule: GET "
                       "/models/{id} MUST return the model\nSource: OpenAI "
                       "spec\nEvidence:\n{\n  \"status\": 500\n}\n"
                       "</failure>\n    </testcase>\n");
    must_contain(text, "    <testcase name=\"billing.balance\" "
                       "classname=\"nexus-conform.billing\" time=\"0.000\">\n"
                       "      <skipped message=\"needs --profile ai-nexus\"/>\n"
                       "    </testcase>\n");
    must_contain(text, "      <system-out>WARNING: param was null for "
                       "\"temperature\"\nRule: The error's param "
                       "SHOULD name the field\nSource: AI Nexus reference\n"
                       "Fix: Set error.param to the field.\nEvidence:\n{\n");
    /* No raw control characters anywhere. */
    for (i = 0; i < len; i++)
        assert_false((unsigned char)text[i] < 0x20 && text[i] != '\n');

    write_temp(text, len, path, sizeof(path));
    xpath_is(path,
             "string(//testcase[@name='stream.done-last']"
             "/failure/@message)",
             WEIRD_XML_VALUE);
    xpath_is(path, "count(/testsuites/testsuite)", "4");
    xpath_is(path, "count(//testcase)", "6");
    xpath_is(path, "count(//testcase/failure[@type='MUST'])", "2");
    xpath_is(path, "count(//testcase/skipped)", "1");
    /* The common schema has skipped on testsuite only, never on the root. */
    xpath_is(path, "count(/testsuites/@skipped)", "0");
    xpath_is(path, "sum(/testsuites/testsuite/@skipped)", "1");
    xpath_is(path,
             "count(//testcase[@name='params.error-param']"
             "/system-out[starts-with(., 'WARNING: ')])",
             "1");
    v = xpath(path, "string(//testcase[@name='stream.done-last']/failure)");
    must_contain(v, "Rule: " RULE_WEIRD "\n");
    must_contain(v, "\"html\": \"</script><script>alert(2)</script>\"");
    must_contain(v, "\"k\xef\xbf\xbd\": true");
    free(v);
    unlink(path);
    free(text);
    results_cleanup(&r);
}

/* No results, no meta: the document keeps its shape. */
static void test_junit_report_empty(void **state)
{
    struct results r;
    char *text;

    (void)state;
    results_init(&r);
    text = render(report_junit_write, &r, NULL, NULL);
    assert_string_equal(text, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                              "<testsuites name=\"nexus-conform\" tests=\"0\" "
                              "failures=\"0\" errors=\"0\" "
                              "time=\"0.000\">\n</testsuites>\n");
    free(text);
}

/* Validates the len bytes of xml against the schema xsd with xmllint;
 * returns its exit status (0: valid). */
static int schema_status(const char *xml, size_t len, const char *xsd)
{
    char path[64];
    char *argv[] = {"xmllint", "--noout", "--schema", (char *)xsd, path, NULL};
    int status;
    char *out;

    write_temp(xml, len, path, sizeof(path));
    out = run_tool(argv, &status);
    unlink(path);
    if (status == -1)
        fail_msg("xmllint not found: install the Debian package "
                 "libxml2-utils");
    free(out);
    return status;
}

/* Renders a JUnit report and validates it against the schema. */
static void junit_validate(const struct results *r, const struct report_meta *m,
                           const char *xsd)
{
    char *text;
    size_t len;

    text = render(report_junit_write, r, m, &len);
    assert_int_equal(schema_status(text, len, xsd), 0);
    free(text);
}

#define XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define SUITE_OPEN                                                             \
    "<testsuite name=\"g\" tests=\"1\" failures=\"0\" errors=\"0\" "           \
    "skipped=\"0\" time=\"0.001\">"
#define CASE_OK "<testcase name=\"a\" classname=\"c\" time=\"0.001\"/>"

/* The schema is as strict as the common JUnit schema (Jenkins xunit's
 * junit-10.xsd) on what the report emits: a document that schema refuses,
 * such as one with skipped on testsuites, is refused here too, and a plain
 * one passes. */
static void test_junit_schema_strict(void **state)
{
    static const char *const refused[] = {
        /* testsuites takes no skipped and no timestamp */
        XML_HEAD "<testsuites tests=\"1\" skipped=\"0\">" SUITE_OPEN CASE_OK
                 "</testsuite></testsuites>",
        XML_HEAD
        "<testsuites timestamp=\"2026-01-02T03:04:05Z\">" SUITE_OPEN CASE_OK
        "</testsuite></testsuites>",
        /* nor disabled: junit-10.xsd allows only name, time, tests,
         * failures and errors there */
        XML_HEAD "<testsuites disabled=\"0\">" SUITE_OPEN CASE_OK
                 "</testsuite></testsuites>",
        /* testsuite takes no version, testcase no file or line */
        XML_HEAD
        "<testsuites><testsuite name=\"g\" tests=\"1\" failures=\"0\" "
        "errors=\"0\" skipped=\"0\" time=\"0.001\" version=\"1\">" CASE_OK
        "</testsuite></testsuites>",
        XML_HEAD "<testsuites>" SUITE_OPEN
                 "<testcase name=\"a\" classname=\"c\" time=\"0.001\" "
                 "file=\"f.c\" line=\"1\"/></testsuite></testsuites>",
        /* testsuites holds testsuite elements only */
        XML_HEAD "<testsuites>" CASE_OK "</testsuites>",
        /* testsuite: no unknown attribute (disabled is not one of its) */
        XML_HEAD
        "<testsuites><testsuite name=\"g\" tests=\"1\" failures=\"0\" "
        "errors=\"0\" skipped=\"0\" time=\"0.001\" disabled=\"0\">" CASE_OK
        "</testsuite></testsuites>",
        /* testsuite: name, tests, failures and errors are required */
        XML_HEAD "<testsuites><testsuite name=\"g\" tests=\"1\" failures=\"0\" "
                 "skipped=\"0\" time=\"0.001\">" CASE_OK
                 "</testsuite></testsuites>",
        /* testcase: no unknown attribute or child */
        XML_HEAD "<testsuites>" SUITE_OPEN
                 "<testcase name=\"a\" classname=\"c\" time=\"0.001\" "
                 "assertions=\"1\"/></testsuite></testsuites>",
        XML_HEAD "<testsuites>" SUITE_OPEN
                 "<testcase name=\"a\" classname=\"c\" time=\"0.001\">"
                 "<properties/></testcase></testsuite></testsuites>",
        /* testcase: name is required */
        XML_HEAD "<testsuites>" SUITE_OPEN
                 "<testcase classname=\"c\" time=\"0.001\"/>"
                 "</testsuite></testsuites>",
        /* failure: message and type only; skipped: message only */
        XML_HEAD "<testsuites>" SUITE_OPEN
                 "<testcase name=\"a\" classname=\"c\" time=\"0.001\">"
                 "<failure message=\"m\" type=\"t\" level=\"x\">d</failure>"
                 "</testcase></testsuite></testsuites>",
        XML_HEAD "<testsuites>" SUITE_OPEN
                 "<testcase name=\"a\" classname=\"c\" time=\"0.001\">"
                 "<skipped message=\"m\" reason=\"r\"/>"
                 "</testcase></testsuite></testsuites>",
        /* times the common schema's pattern refuses */
        XML_HEAD "<testsuites time=\"1e-3\">" SUITE_OPEN CASE_OK
                 "</testsuite></testsuites>",
        XML_HEAD "<testsuites time=\"-1.000\">" SUITE_OPEN CASE_OK
                 "</testsuite></testsuites>",
        XML_HEAD "<testsuites time=\"0.0001\">" SUITE_OPEN CASE_OK
                 "</testsuite></testsuites>",
    };
    static const char accepted[] = XML_HEAD
        "<testsuites name=\"n\" time=\"1.250\" tests=\"1\" "
        "failures=\"1\" errors=\"0\">"
        "<testsuite name=\"g\" tests=\"1\" failures=\"1\" errors=\"0\" "
        "skipped=\"0\" time=\"0.001\" timestamp=\"2026-01-02T03:04:05Z\" "
        "hostname=\"h\" id=\"0\" package=\"p\">"
        "<properties><property name=\"k\" value=\"v\"/></properties>"
        "<testcase name=\"a\" classname=\"c\" time=\"0.001\">"
        "<failure message=\"m\" type=\"MUST\">details</failure>"
        "<system-out>o</system-out><system-err>e</system-err>"
        "</testcase><system-out>o</system-out>"
        "<system-err>e</system-err></testsuite></testsuites>";
    char *xsd = schema_path();
    size_t i;

    (void)state;
    if (xsd == NULL)
        skip(); /* NEXUS_SOURCE_DIR unset: the schema cannot be found */
    assert_int_equal(schema_status(accepted, sizeof(accepted) - 1, xsd), 0);
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (schema_status(refused[i], strlen(refused[i]), xsd) == 0)
            fail_msg("the schema accepts what the common one refuses:\n%s",
                     refused[i]);
    free(xsd);
}

/* Every JUnit report validates against tests/junit.xsd, the common JUnit
 * schema CI consumers read: the full run, an empty one, and one whose
 * meta has a malformed start time (left out rather than breaking it). */
static void test_junit_schema(void **state)
{
    char *xsd = schema_path();
    struct results r;
    struct report_meta m = test_meta;

    (void)state;
    if (xsd == NULL)
        skip(); /* NEXUS_SOURCE_DIR unset: the schema cannot be found */
    build(&r);
    junit_validate(&r, &test_meta, xsd);
    junit_validate(&r, NULL, xsd);
    results_cleanup(&r);
    junit_validate(&r, NULL, xsd);
    m.started = "yesterday <noon>";
    m.duration_s = -3;
    add(&r, "a", "g\"<>", CHECK_PASS, "", "", NULL, "", 0.0004);
    junit_validate(&r, &m, xsd);
    results_cleanup(&r);
    free(xsd);
}

/* A malformed start time is left out; odd group names are escaped. */
static void test_junit_report_bad_timestamp(void **state)
{
    struct results r;
    struct report_meta m = test_meta;
    char *text;

    (void)state;
    m.started = "yesterday <noon>";
    m.duration_s = -3;
    results_init(&r);
    add(&r, "a", "g\"<>", CHECK_PASS, "", "", NULL, "", 0.0004);
    text = render(report_junit_write, &r, &m, NULL);
    assert_null(strstr(text, "timestamp="));
    must_contain(text, "time=\"0.000\">\n");
    must_contain(text, "<testsuite name=\"g&quot;&lt;&gt;\"");
    free(text);
    results_cleanup(&r);
}

/* Returns a lowercase copy, for case-blind searches. */
static char *lower(const char *s)
{
    size_t n = strlen(s), i;
    char *out = malloc(n + 1);

    assert_non_null(out);
    for (i = 0; i <= n; i++)
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    return out;
}

/* The HTML page: escaped text, no script, no outside resources, the
 * summary badges, what to act on first (failures, then warnings, each with
 * its impact and fix), then the groups in order with their durations, and
 * markup that is well-formed as HTML and as XML. */
static void test_html_report(void **state)
{
    struct results r;
    char *text, *low;
    size_t len;
    char path[64];
    const char *at, *prev;
    static const char *const groups[] = {
        "<section class=\"group\" id=\"g1\">\n<h2>models<small>2 checks, "
        "1 failed, 19 ms</small></h2>",
        "<section class=\"group\" id=\"g2\">\n<h2>stream<small>2 checks, "
        "1 failed, 4.0 ms</small></h2>",
        "<section class=\"group\" id=\"g3\">\n<h2>params<small>1 check, "
        "1 warned, 40 ms</small></h2>",
        "<section class=\"group\" id=\"g4\">\n<h2>billing<small>1 "
        "check, &lt; 0.1 ms</small></h2>",
    };
    static const char *const act[] = {
        /* the failures in run order, then the warning */
        "<div class=\"item fail\">\n<div class=\"head\"><span class=\"badge "
        "fail\">FAIL</span> <a href=\"#c1\"><code "
        "class=\"id\">stream.done-last</code></a> <span "
        "class=\"level\">MUST</span></div>\n<p class=\"msg\">" WEIRD_HTML
        "</p>\n<dl class=\"kv\"><dt class=\"impact\">Impact</dt><dd>" IMPACT
        "</dd><dt class=\"fix\">Fix</dt><dd>" FIX "</dd><dt "
        "class=\"basis\">Basis</dt><dd>client</dd></dl>\n</div>",
        "<div class=\"item fail\">\n<div class=\"head\"><span class=\"badge "
        "fail\">FAIL</span> <a href=\"#c4\"><code "
        "class=\"id\">models.get</code></a></div>",
        "<div class=\"item warn\">\n<div class=\"head\"><span class=\"badge "
        "warn\">WARN</span> <a href=\"#c2\"><code "
        "class=\"id\">params.error-param</code></a> <span "
        "class=\"level\">SHOULD</span></div>\n<p class=\"msg\">param was "
        "null for &quot;temperature&quot;</p>\n<dl class=\"kv\"><dt "
        "class=\"fix\">Fix</dt><dd>Set error.param to the field.</dd></dl>",
        "<main>",
    };
    size_t i;

    (void)state;
    build(&r);
    text = render(report_html_write, &r, &test_meta, &len);
    assert_ptr_equal(strstr(text, "<!DOCTYPE html>\n<html lang=\"en\">"), text);
    must_contain(text, "<meta charset=\"utf-8\"/>");
    must_contain(text, "<title>nexus-conform report: "
                       "http://127.0.0.1:8080/v1?a=1&amp;b=&lt;2&gt;</title>");
    must_contain(text, "<dt>Base URL</dt><dd><code>http://127.0.0.1:8080/"
                       "v1?a=1&amp;b=&lt;2&gt;</code></dd>");
    must_contain(text, "<dt>Model</dt><dd><code>deepseek-v4</code></dd>");
    must_contain(text, "<dt>Profile</dt><dd>ai-nexus</dd>");
    must_contain(text, "<dt>Mode</dt><dd>strict: every deviation from the "
                       "spec&#39;s text fails</dd>");
    must_contain(text, "<dt>Date</dt><dd>2026-01-02T03:04:05Z</dd>");
    must_contain(text, "<dt>Duration</dt><dd>1.250 s</dd>");
    must_contain(text, "<p class=\"verdict fail\">Not conformant: 2 checks "
                       "failed.</p>");
    must_contain(text, "<span class=\"badge pass\">2 passed</span>"
                       "<span class=\"badge fail\">2 failed</span>"
                       "<span class=\"badge warn\">1 warned</span>"
                       "<span class=\"badge skip\">1 skipped</span>");
    prev = must_contain(text, "<section class=\"act\" id=\"act\">\n<h2>To "
                              "act on<small>failures first, then "
                              "warnings</small></h2>");
    for (i = 0; i < sizeof(act) / sizeof(act[0]); i++) {
        at = must_contain(text, act[i]);
        assert_true(at > prev);
        prev = at;
    }
    for (i = 0; i < 4; i++) {
        at = must_contain(text, groups[i]);
        assert_true(at > prev);
        prev = at;
    }
    /* A failure shows its message, impact, fix, rule, source and its
     * evidence laid out, open. */
    must_contain(
        text,
        "<article class=\"check fail\" id=\"c1\">\n<div "
        "class=\"head\"><span class=\"badge fail\">FAIL</span> <code "
        "class=\"id\">stream.done-last</code> <span "
        "class=\"level\">MUST</span></div>\n<p class=\"msg\">" WEIRD_HTML
        "</p>\n<dl class=\"kv\"><dt class=\"impact\">Impact</dt><dd>" IMPACT
        "</dd><dt class=\"fix\">Fix</dt><dd>" FIX "</dd><dt "
        "class=\"basis\">Basis</dt><dd>client</dd><dt "
        "class=\"rule\">Rule</dt><dd>The last event MUST be data: "
        "[DONE] &amp; nothing after &lt;it&gt;</dd><dt "
        "class=\"source\">Source</dt><dd>OpenAI spec: "
        "CreateChatCompletionStreamResponse</dd></dl>\n"
        "<details open=\"open\"><summary>Evidence</summary>\n"
        "<div class=\"ex\"><div class=\"line\"><b>Request</b><code>POST "
        "/v1/chat/completions</code></div>\n</div>\n"
        "<div class=\"ex\"><div class=\"line\"><b>Response</b>HTTP "
        "200</div>\n<pre class=\"body\">data: \xef\xbf\xbd&lt;b&gt;]]&gt;"
        "</pre>\n</div>\n");
    must_contain(text, "&quot;html&quot;: &quot;&lt;/script&gt;&lt;script&gt;"
                       "alert(2)&lt;/script&gt;&quot;");
    /* A pass or a skip is one line, its rule and evidence folded. */
    must_contain(text, "<article class=\"check skip\" id=\"c3\">\n<div "
                       "class=\"head\"><span class=\"badge skip\">SKIP</span> "
                       "<code class=\"id\">billing.balance</code><span "
                       "class=\"msg\">needs --profile ai-nexus</span></div>\n"
                       "<details class=\"more\"><summary>Rule, source and "
                       "evidence</summary>\n");

    low = lower(text);
    assert_null(strstr(low, "<script"));
    assert_null(strstr(low, "src="));
    assert_null(strstr(low, "href=\"http"));
    assert_null(strstr(low, "url("));
    assert_null(strstr(low, "@import"));
    free(low);
    for (i = 0; i < len; i++)
        assert_false((unsigned char)text[i] < 0x20 && text[i] != '\n' &&
                     text[i] != '\t');

    /* Well-formed as HTML, and as XML too, so no data broke out of its
     * tag. */
    write_temp(text, len, path, sizeof(path));
    assert_int_equal(tu_html_errors(path), 0);
    xpath_is(path, "count(//article)", "6");
    xpath_is(path, "count(//section[@id='act']/div)", "3");
    xpath_is(path, "string(//article[.//code='stream.done-last']/p)",
             WEIRD_HTML_VALUE);
    unlink(path);
    free(text);
    results_cleanup(&r);
}

/* A stream's evidence reads as its list of events, the one holding the
 * offending byte highlighted, and its raw bytes with that byte marked;
 * a JSON body is pretty-printed; real durations are shown. */
static void test_html_stream_evidence(void **state)
{
    struct results r;
    json_t *ev;
    char *text, path[64];
    size_t len;

    (void)state;
    ev = json_pack(
        "{s:{s:s, s:s, s:s}, s:{s:i, s:f, s:i, s:i, s:i, s:s, "
        "s:[{s:i, s:i, s:i, s:f, s:s}, {s:i, s:i, s:i, s:f, s:s}], s:i}}",
        "request", "method", "POST", "url", "http://h/v1/chat/completions",
        "body", "{\"model\":\"m\",\"stream\":true}", "response", "status", 200,
        "elapsed_ms", 1234.4, "body_bytes", 34, "offending_offset", 22,
        "offending_at", 21, "body", "data: {\"a\":1}\n\ndata: \\xff\n\n",
        "events", "index", 0, "offset", 0, "end", 16, "at_ms", 0.4, "data",
        "{\"a\":1}", "index", 1, "offset", 16, "end", 34, "at_ms", 1200.0,
        "data", "\\xff", "events_total", 2);
    assert_non_null(ev);
    results_init(&r);
    assert_non_null(results_add(&r, "stream.utf8", "stream", CHECK_FAIL, "r",
                                "s", ev, "invalid UTF-8 at byte 22"));
    text = render(report_html_write, &r, &test_meta, &len);
    must_contain(text, "<span class=\"time\">answered in 1.234 s</span>");
    must_contain(text, "<pre class=\"body\">{\n  &quot;model&quot;: "
                       "&quot;m&quot;,\n  &quot;stream&quot;: true\n}</pre>");
    must_contain(text,
                 "<b>Response</b>HTTP 200 \xc2\xb7 34 bytes \xc2\xb7 1.234 s "
                 "\xc2\xb7 offending byte 22</div>");
    must_contain(text, "<h3>Events (2 of 2 shown)</h3>");
    must_contain(text, "<tr><td class=\"n\">0</td><td class=\"n\">0</td><td "
                       "class=\"n\">0.4 ms</td><td class=\"data mono\">"
                       "{&quot;a&quot;:1}</td></tr>");
    must_contain(text, "<tr class=\"hit\"><td class=\"n\">1</td><td "
                       "class=\"n\">16</td><td class=\"n\">1.200 s</td>");
    must_contain(text, "<details open=\"open\"><summary>Raw bytes</summary>"
                       "<pre class=\"body\">data: {&quot;a&quot;:1}\n\ndata: "
                       "<mark>\\xff</mark>\n\n</pre>");
    write_temp(text, len, path, sizeof(path));
    assert_int_equal(tu_html_errors(path), 0);
    xpath_is(path, "string(//tr[@class='hit']/td[1])", "1");
    xpath_is(path, "string(//mark)", "\\xff");
    unlink(path);
    free(text);
    results_cleanup(&r);
}

/* An empty run without meta still makes a sensible page. */
static void test_html_report_empty(void **state)
{
    struct results r;
    char *text;

    (void)state;
    results_init(&r);
    text = render(report_html_write, &r, NULL, NULL);
    must_contain(text, "<p class=\"verdict pass\">Conformant: every check "
                       "that ran passed.</p>");
    must_contain(text, "<dt>Base URL</dt><dd>\xe2\x80\x94</dd>");
    must_contain(text, "<p>No checks ran.</p>");
    must_contain(text, "</html>\n");
    free(text);
}

/* What the terminal report writes: one line (c), the recap or the
 * summary (of r). */
enum term_part { TERM_LINE, TERM_RECAP, TERM_SUMMARY };

/* Runs one part of the terminal report into memory and returns it. */
static char *term_render(enum term_part part, const struct check_result *c,
                         const struct results *r, const struct term_style *st)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);

    assert_non_null(f);
    if (part == TERM_LINE)
        report_term_line(c, st, f);
    else if (part == TERM_RECAP)
        report_term_recap(r, st, f);
    else
        report_term_summary(r, st->color, f);
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* Runs report_term_line into memory. */
static char *term_line(const struct check_result *c, bool color, bool verbose)
{
    struct term_style st = {.color = color, .verbose = verbose};

    return term_render(TERM_LINE, c, NULL, &st);
}

/* Runs report_term_summary into memory. */
static char *term_summary(const struct results *r, bool color)
{
    struct term_style st = {.color = color};

    return term_render(TERM_SUMMARY, NULL, r, &st);
}

/* Runs report_term_recap into memory. */
static char *term_recap(const struct results *r, const struct term_style *st)
{
    return term_render(TERM_RECAP, NULL, r, st);
}

/* Asserts the terminal output for one result. */
static void term_is(const struct check_result *c, bool color, bool verbose,
                    const char *want)
{
    char *got = term_line(c, color, verbose);

    assert_string_equal(got, want);
    free(got);
}

/* The exact terminal lines without colour, terse and verbose. */
static void test_term_lines(void **state)
{
    struct results r;

    (void)state;
    build(&r);
    term_is(&r.items[0], false, false,
            "  PASS  models.list  3 models listed\n");
    term_is(&r.items[1], false, false,
            "  FAIL  stream.done-last  " WEIRD_TERM ". Impact: " IMPACT "\n");
    term_is(&r.items[2], false, false,
            "  WARN  params.error-param  param was null for \"temperature\"\n");
    term_is(&r.items[3], false, false,
            "  SKIP  billing.balance  needs --profile ai-nexus\n");
    /* Verbose adds nothing to a pass or a skip. */
    term_is(&r.items[0], false, true, "  PASS  models.list  3 models listed\n");
    term_is(&r.items[3], false, true,
            "  SKIP  billing.balance  needs --profile ai-nexus\n");
    term_is(&r.items[4], false, true,
            "  FAIL  models.get  GET /v1/models/x gave 500 & <nothing>\n"
            "        rule: GET /models/{id} MUST return the model\n"
            "        source: OpenAI spec\n"
            "        evidence:\n"
            "          {\n"
            "            \"status\": 500\n"
            "          }\n");
    term_is(&r.items[2], false, true,
            "  WARN  params.error-param  param was null for \"temperature\"\n"
            "        rule: The error's param SHOULD name the field\n"
            "        source: AI Nexus reference\n"
            "        evidence:\n"
            "          {\n"
            "            \"response\": {\n"
            "              \"status\": 400,\n"
            "              \"body\": {\n"
            "                \"error\": {\n"
            "                  \"param\": null\n"
            "                }\n"
            "              }\n"
            "            }\n"
            "          }\n");
    term_is(NULL, false, true, "");
    results_cleanup(&r);
}

/* Verbose evidence is cut to a sane size: long lines and many lines. */
static void test_term_evidence_cut(void **state)
{
    struct results r;
    struct check_result *c;
    json_t *ev = json_array();
    char *got, *want_line;
    char big[301];
    int i;

    (void)state;
    memset(big, 'x', 300);
    big[300] = '\0';
    /* "é" across the cut: the line stops before it, not inside it. The
     * dumped line is two spaces, a quote, then the string, so the string's
     * byte 156 is the line's byte 159 and the cut falls after it. */
    memcpy(big + 156, "\xc3\xa9", 2);
    assert_int_equal(json_array_append_new(ev, json_string(big)), 0);
    for (i = 0; i < 30; i++)
        assert_int_equal(json_array_append_new(ev, json_integer(i)), 0);
    results_init(&r);
    c = results_add(&r, "x", "g", CHECK_FAIL, "", "", ev, "m");
    got = term_line(c, false, true);
    want_line = malloc(256);
    assert_non_null(want_line);
    memcpy(want_line, "            \"", 13);
    memset(want_line + 13, 'x', 156);
    memcpy(want_line + 169, "...\n", 5);
    assert_null(strstr(got, "\xc3"));
    must_contain(got, "        evidence:\n          [\n");
    must_contain(got, want_line);
    must_contain(got, "            21,\n"
                      "          ... (9 more lines; see the JSON report)\n");
    assert_null(strstr(got, "            22,\n"));
    free(want_line);
    free(got);
    results_cleanup(&r);
}

/* Colour wraps the label only, and only when asked. */
static void test_term_color(void **state)
{
    struct results r;

    (void)state;
    build(&r);
    term_is(&r.items[0], true, false,
            "  \033[32mPASS\033[0m  models.list  3 models listed\n");
    term_is(&r.items[4], true, false,
            "  \033[31mFAIL\033[0m  models.get  GET /v1/models/x gave 500 & "
            "<nothing>\n");
    term_is(&r.items[2], true, false,
            "  \033[33mWARN\033[0m  params.error-param  param was null for "
            "\"temperature\"\n");
    term_is(&r.items[3], true, false,
            "  \033[90mSKIP\033[0m  billing.balance  needs --profile "
            "ai-nexus\n");
    results_cleanup(&r);
}

/* A hostile message cannot put an escape byte on the terminal. */
static void test_term_no_escape_bytes(void **state)
{
    struct results r;
    char *got;

    (void)state;
    build(&r);
    got = term_line(&r.items[1], false, true);
    assert_null(strchr(got, '\033'));
    assert_null(strstr(got, "\xc2\x85"));
    free(got);
    results_cleanup(&r);
}

/* The closing line, exactly, plain and coloured. */
static void test_term_summary(void **state)
{
    struct results r;
    char *got;

    (void)state;
    build(&r);
    got = term_summary(&r, false);
    assert_string_equal(got, "2 passed, 2 failed, 1 warned, 1 skipped\n");
    free(got);
    got = term_summary(&r, true);
    assert_string_equal(got, "\033[32m2\033[0m passed, \033[31m2\033[0m "
                             "failed, \033[33m1\033[0m warned, "
                             "\033[90m1\033[0m skipped\n");
    free(got);
    results_cleanup(&r);
    got = term_summary(&r, true);
    assert_string_equal(got, "0 passed, 0 failed, 0 warned, 0 skipped\n");
    free(got);
}

/* Ids are padded to the style's width, so that messages start in one
 * column; a longer id still gets its two spaces. */
static void test_term_aligned(void **state)
{
    struct results r;
    struct term_style st = {.id_width = 20};
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);

    (void)state;
    build(&r);
    assert_non_null(f);
    report_term_line(&r.items[0], &st, f);
    report_term_line(&r.items[3], &st, f);
    st.id_width = 5;
    report_term_line(&r.items[0], &st, f);
    assert_int_equal(fclose(f), 0);
    assert_string_equal(buf, "  PASS  models.list           3 models listed\n"
                             "  SKIP  billing.balance       needs --profile "
                             "ai-nexus\n"
                             "  PASS  models.list  3 models listed\n");
    free(buf);
    results_cleanup(&r);
}

/* A group's heading is its name and what it tests, bold only in colour. */
static void test_term_group(void **state)
{
    struct term_style plain = {.id_width = 0}, color = {.color = true};
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);

    (void)state;
    assert_non_null(f);
    report_term_group("chat", "POST /chat/completions", &plain, f);
    report_term_group("usage", NULL, &plain, f);
    report_term_group("chat", "it", &color, f);
    assert_int_equal(fclose(f), 0);
    assert_string_equal(buf, "chat: POST /chat/completions\n"
                             "usage\n"
                             "\033[1mchat\033[0m\033[90m: it\033[0m\n");
    free(buf);
}

/* The recap repeats the failures, then the warnings, each with its impact
 * and its fix; passes and skips are not repeated, and a clean run prints
 * nothing. */
static void test_term_recap(void **state)
{
    struct results r;
    struct term_style st = {.id_width = 18};
    char *got;

    (void)state;
    build(&r);
    got = term_recap(&r, &st);
    assert_string_equal(got, "\nFailures to act on:\n"
                             "  FAIL  stream.done-last    " WEIRD_TERM "\n"
                             "        impact: " IMPACT "\n"
                             "        fix: " FIX "\n"
                             "  FAIL  models.get          GET /v1/models/x "
                             "gave 500 & <nothing>\n"
                             "\nWarnings to act on:\n"
                             "  WARN  params.error-param  param was null for "
                             "\"temperature\"\n"
                             "        fix: Set error.param to the field.\n"
                             "\n");
    free(got);
    results_cleanup(&r);
    got = term_recap(&r, &st);
    assert_string_equal(got, "");
    free(got);
}

/* Every file report returns -1 when the stream cannot be written. */
static void test_write_errors(void **state)
{
    struct results r;
    FILE *f;

    (void)state;
    build(&r);
    f = fopen("/dev/null", "r");
    assert_non_null(f);
    assert_int_equal(report_json_write(&r, &test_meta, f), -1);
    clearerr(f);
    assert_int_equal(report_junit_write(&r, &test_meta, f), -1);
    clearerr(f);
    assert_int_equal(report_html_write(&r, &test_meta, f), -1);
    fclose(f);
    results_cleanup(&r);
}

/* Runs every results and report case. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_results_add),
        cmocka_unit_test(test_results_many),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_utf8_clean),
        cmocka_unit_test(test_results_clean_text),
        cmocka_unit_test(test_results_message_cap),
        cmocka_unit_test(test_results_evidence),
        cmocka_unit_test(test_json_report),
        cmocka_unit_test(test_json_report_empty),
        cmocka_unit_test(test_junit_report),
        cmocka_unit_test(test_junit_report_empty),
        cmocka_unit_test(test_junit_report_bad_timestamp),
        cmocka_unit_test(test_junit_schema),
        cmocka_unit_test(test_junit_schema_strict),
        cmocka_unit_test(test_html_report),
        cmocka_unit_test(test_html_stream_evidence),
        cmocka_unit_test(test_html_report_empty),
        cmocka_unit_test(test_term_lines),
        cmocka_unit_test(test_term_evidence_cut),
        cmocka_unit_test(test_term_color),
        cmocka_unit_test(test_term_no_escape_bytes),
        cmocka_unit_test(test_term_summary),
        cmocka_unit_test(test_term_aligned),
        cmocka_unit_test(test_term_group),
        cmocka_unit_test(test_term_recap),
        cmocka_unit_test(test_write_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
