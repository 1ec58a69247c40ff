/* report_html: writes the run as one self-contained page for people: what
 * to act on first, then every group, each check with readable evidence. */
#include "result.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonio.h"
#include "markup.h"
#include "utf8.h"

/* Evidence past this many bytes is cut on the page; the JSON report keeps
 * it whole. */
#define HTML_EVIDENCE_MAX (256 * 1024)

#define HTML_JSON_FLAGS                                                        \
    (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

/* The page's only styling. The page is also well-formed XML (every element
 * closed, no '&' or '<' in the CSS), so a test can check it with an XML
 * parser. Filtering uses radio buttons and :checked, so no script runs. */
static const char html_css[] =
    ":root{--pass:#1a7f37;--fail:#cf222e;--warn:#9a6700;--skip:#6e7781;"
    "--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--panel:#f6f8fa;"
    "--hit:#fff1c2;--failbg:#ffebe9;--warnbg:#fff8c5}\n"
    "@media (prefers-color-scheme:dark){:root{--pass:#238636;--fail:#da3633;"
    "--warn:#9e6a03;--skip:#656c76;--bg:#0d1117;--fg:#e6edf3;"
    "--muted:#9198a1;--line:#3d444d;--panel:#151b23;--hit:#3b2e05;"
    "--failbg:#25171c;--warnbg:#272115}}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:var(--bg);color:var(--fg);"
    "font:15px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,Helvetica,"
    "Arial,sans-serif}\n"
    ".wrap{max-width:1100px;margin:0 auto;padding:24px 20px 48px}\n"
    "h1{font-size:24px;margin:0 0 4px}\n"
    "h2{font-size:18px;margin:32px 0 8px;padding-bottom:6px;"
    "border-bottom:1px solid var(--line)}\n"
    "h2 small{font-weight:400;color:var(--muted);font-size:14px;"
    "margin-left:8px}\n"
    "h3{font-size:14px;margin:12px 0 4px;color:var(--muted);"
    "text-transform:uppercase;letter-spacing:.04em}\n"
    "code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"
    "monospace;font-size:13px}\n"
    "a{color:inherit}\n"
    ".verdict{font-size:17px;font-weight:600;margin:8px 0 16px}\n"
    ".verdict.fail{color:var(--fail)}.verdict.pass{color:var(--pass)}\n"
    ".meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;"
    "margin:0 0 16px;padding:12px 16px;background:var(--panel);"
    "border:1px solid var(--line);border-radius:8px}\n"
    ".meta dt{color:var(--muted)}.meta dd{margin:0;word-break:break-all}\n"
    ".badge{display:inline-block;min-width:3.8em;padding:1px 8px;"
    "border-radius:999px;color:#fff;background:var(--skip);font-size:12px;"
    "font-weight:700;letter-spacing:.04em;text-align:center}\n"
    ".badge.pass{background:var(--pass)}.badge.fail{background:var(--fail)}"
    ".badge.warn{background:var(--warn)}.badge.skip{background:var(--skip)}\n"
    ".summary .badge{font-size:14px;padding:3px 12px;margin-right:6px}\n"
    ".summary .badge.zero{opacity:.45}\n"
    ".level{font-size:11px;color:var(--muted);border:1px solid var(--line);"
    "border-radius:4px;padding:0 5px}\n"
    ".f{position:absolute;opacity:0;pointer-events:none}\n"
    "nav{margin:16px 0 0;color:var(--muted)}\n"
    "nav label,nav a{display:inline-block;margin:2px 4px 2px 0;"
    "padding:1px 10px;border:1px solid var(--line);border-radius:999px;"
    "color:var(--fg);text-decoration:none;cursor:pointer}\n"
    "#show-all:checked~.filter label[for=show-all],"
    "#show-fail:checked~.filter label[for=show-fail],"
    "#show-warn:checked~.filter label[for=show-warn],"
    "#show-skip:checked~.filter label[for=show-skip],"
    "#show-pass:checked~.filter label[for=show-pass]"
    "{background:var(--fg);color:var(--bg)}\n"
    "#show-fail:checked~main .check:not(.fail),"
    "#show-warn:checked~main .check:not(.warn),"
    "#show-skip:checked~main .check:not(.skip),"
    "#show-pass:checked~main .check:not(.pass){display:none}\n"
    "#show-fail:checked~main .group:not(:has(.check.fail)),"
    "#show-warn:checked~main .group:not(:has(.check.warn)),"
    "#show-skip:checked~main .group:not(:has(.check.skip)),"
    "#show-pass:checked~main .group:not(:has(.check.pass)){display:none}\n"
    ".act{margin:24px 0 0}\n"
    ".act .item{margin:8px 0;padding:10px 14px;border-radius:6px;"
    "border:1px solid var(--line)}\n"
    ".act .item.fail{background:var(--failbg);border-color:var(--fail)}\n"
    ".act .item.warn{background:var(--warnbg);border-color:var(--warn)}\n"
    ".check{margin:8px 0;padding:10px 14px;border:1px solid var(--line);"
    "border-left:5px solid var(--skip);border-radius:6px}\n"
    ".check.pass{border-left-color:var(--pass)}"
    ".check.fail{border-left-color:var(--fail)}"
    ".check.warn{border-left-color:var(--warn)}\n"
    ".head{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}\n"
    ".head .id{font-weight:600}\n"
    ".head .time{margin-left:auto;color:var(--muted);font-size:13px}\n"
    ".head .msg{margin:0;flex:1 1 20em}\n"
    ".check.pass,.check.skip{margin:4px 0;padding:6px 12px}\n"
    "details.more{margin:2px 0 0}\n"
    "details.more>summary{font-size:12px}\n"
    ".msg{margin:6px 0 0;white-space:pre-wrap;overflow-wrap:anywhere}\n"
    ".kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;"
    "margin:8px 0 0;font-size:14px}\n"
    ".kv dt{color:var(--muted)}.kv dd{margin:0;overflow-wrap:anywhere}\n"
    ".kv dt.impact,.kv dt.fix{font-weight:600;color:var(--fg)}\n"
    "details{margin:8px 0 0}\n"
    "summary{cursor:pointer;color:var(--muted);font-size:14px}\n"
    ".ex{margin:6px 0 0;padding:8px 12px;border:1px solid var(--line);"
    "border-radius:6px}\n"
    ".ex .line{overflow-wrap:anywhere}\n"
    ".ex .line b{margin-right:6px}\n"
    "pre{margin:6px 0 0;padding:10px 12px;background:var(--panel);"
    "border:1px solid var(--line);border-radius:6px;overflow:auto;"
    "max-height:32em;white-space:pre-wrap;overflow-wrap:anywhere}\n"
    "mark{background:var(--fail);color:#fff;padding:0 1px;"
    "border-radius:2px}\n"
    "table.events{border-collapse:collapse;width:100%;margin:6px 0 0;"
    "font-size:13px}\n"
    "table.events th{text-align:left;color:var(--muted);font-weight:400;"
    "border-bottom:1px solid var(--line);padding:2px 6px}\n"
    "table.events td{border-bottom:1px solid var(--line);padding:2px 6px;"
    "vertical-align:top}\n"
    "table.events td.n{text-align:right;white-space:nowrap;"
    "color:var(--muted)}\n"
    "table.events td.data{overflow-wrap:anywhere;width:100%}\n"
    "table.events tr.hit td{background:var(--hit)}\n"
    "table.events tr.hit td.n{color:var(--fg);font-weight:700}\n"
    "footer{margin-top:40px;color:var(--muted);font-size:13px}\n";

/* Reads a NULL string as empty. */
static const char *str(const char *s)
{
    return s != NULL ? s : "";
}

/* Writes text escaped for HTML. */
static void put(FILE *out, const char *s)
{
    markup_put(out, s, MARKUP_HTML);
}

/* Writes a fact of the run, or a dash when it is not known. */
static void meta_row(FILE *out, const char *name, const char *value, bool code)
{
    fprintf(out, "<dt>%s</dt><dd>", name);
    if (value == NULL || value[0] == '\0') {
        fputs("\xE2\x80\x94", out);
    } else {
        fputs(code ? "<code>" : "", out);
        put(out, value);
        fputs(code ? "</code>" : "", out);
    }
    fputs("</dd>\n", out);
}

/* Rounds a duration to a whole number without libm; nonsense reads 0. */
static unsigned long long whole(double v)
{
    unsigned long long n = 0;

    if (isfinite(v) && v > 0)
        n = v < 1e15 ? (unsigned long long)(v + 0.5) : 1000000000000000ULL;
    return n;
}

/* Writes a duration in seconds with three decimals. */
static void seconds_write(FILE *out, double s)
{
    unsigned long long ms = whole(s * 1000);

    fprintf(out, "%llu.%03llu s", ms / 1000, ms % 1000);
}

/* Writes a duration given in milliseconds as people read it: "< 0.1 ms",
 * "0.4 ms", "37 ms", "1.204 s". */
static void ms_write(FILE *out, double ms)
{
    unsigned long long tenths = whole(ms * 10);

    if (tenths == 0)
        fputs("&lt; 0.1 ms", out);
    else if (tenths < 100)
        fprintf(out, "%llu.%llu ms", tenths / 10, tenths % 10);
    else if (tenths < 10000)
        fprintf(out, "%llu ms", whole(ms));
    else
        seconds_write(out, ms / 1000);
}

/* Writes one summary badge, dimmed when its count is zero. */
static void badge_count(FILE *out, const char *cls, size_t n, const char *word)
{
    fprintf(out, "<span class=\"badge %s%s\">%zu %s</span>", cls,
            n == 0 ? " zero" : "", n, word);
}

/* Writes s pretty-printed when it is a whole JSON document, else as it
 * is, in a <pre>. */
static void body_write(FILE *out, const char *s)
{
    json_t *doc = json_loads(s, JSON_DECODE_ANY, NULL);
    char *pretty = json_is_object(doc) || json_is_array(doc)
                       ? jsonio_dumps(doc, HTML_JSON_FLAGS)
                       : NULL;

    fputs("<pre class=\"body\">", out);
    put(out, pretty != NULL ? pretty : s);
    fputs("</pre>\n", out);
    free(pretty);
    json_decref(doc);
}

/* Writes the body excerpt s with the text at byte mark highlighted: an
 * escape (\xNN) or one character; a line end is shown as \n or \r before
 * it, since a highlighted line end would be invisible. */
static void body_marked_write(FILE *out, const char *s, size_t mark)
{
    size_t len = strlen(s), n;

    if (mark >= len) {
        body_write(out, s);
        goto out;
    }
    if (s[mark] == '\\' && mark + 4 <= len && s[mark + 1] == 'x')
        n = 4;
    else
        n = utf8_seq_len((const unsigned char *)s + mark, len - mark);
    if (n == 0)
        n = 1;
    fputs("<pre class=\"body\">", out);
    markup_putn(out, s, mark, MARKUP_HTML);
    fputs("<mark>", out);
    if (s[mark] == '\n')
        fputs("\\n", out);
    else if (s[mark] == '\r')
        fputs("\\r", out);
    markup_putn(out, s + mark, n, MARKUP_HTML);
    fputs("</mark>", out);
    put(out, s + mark + n);
    fputs("</pre>\n", out);
out:
    return;
}

/* Writes the headers of a request or response, folded. */
static void headers_write(FILE *out, const json_t *headers)
{
    const char *k;
    json_t *v;

    if (json_object_size(headers) == 0)
        return;
    fprintf(out,
            "<details><summary>Headers (%zu)</summary><dl class=\"kv "
            "mono\">",
            json_object_size(headers));
    json_object_foreach((json_t *)headers, k, v)
    {
        fputs("<dt>", out);
        put(out, k);
        fputs("</dt><dd>", out);
        put(out, json_is_string(v) ? json_string_value(v) : "");
        fputs("</dd>", out);
    }
    fputs("</dl></details>\n", out);
}

/* Writes what was sent: method and URL, headers, the body. */
static void request_write(FILE *out, const json_t *req)
{
    const char *url = json_string_value(json_object_get(req, "url"));
    const char *body = json_string_value(json_object_get(req, "body"));

    if (!json_is_object(req))
        return;
    fputs("<div class=\"ex\"><div class=\"line\"><b>Request</b><code>", out);
    put(out, json_string_value(json_object_get(req, "method")));
    fputc(' ', out);
    put(out,
        url != NULL ? url : json_string_value(json_object_get(req, "path")));
    fputs("</code></div>\n", out);
    headers_write(out, json_object_get(req, "headers"));
    if (body != NULL)
        body_write(out, body);
    fputs("</div>\n", out);
}

/* The index of the event that holds byte at, or -1. */
static long event_at(const json_t *events, json_int_t at)
{
    const json_t *e;
    size_t i;
    long hit = -1;

    json_array_foreach(events, i, e)
    {
        if (json_integer_value(json_object_get(e, "offset")) <= at &&
            at < json_integer_value(json_object_get(e, "end")))
            hit = (long)i;
    }
    return hit;
}

/* Writes a stream as its list of events: number, offset, arrival and
 * data, the one holding the offending byte highlighted. */
static void events_write(FILE *out, const json_t *resp)
{
    const json_t *events = json_object_get(resp, "events"), *e;
    const json_t *off = json_object_get(resp, "offending_offset");
    json_int_t total =
        json_integer_value(json_object_get(resp, "events_total"));
    long hit = off != NULL ? event_at(events, json_integer_value(off)) : -1;
    size_t i;

    fprintf(out, "<h3>Events (%zu of %lld shown)</h3>\n",
            json_array_size(events), (long long)total);
    fputs("<table class=\"events\"><thead><tr><th>#</th><th>byte</th>"
          "<th>arrived</th><th>data</th></tr></thead><tbody>\n",
          out);
    json_array_foreach(events, i, e)
    {
        fprintf(out,
                "<tr%s><td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
                "<td class=\"n\">",
                (long)i == hit ? " class=\"hit\"" : "",
                (long long)json_integer_value(json_object_get(e, "index")),
                (long long)json_integer_value(json_object_get(e, "offset")));
        ms_write(out, json_number_value(json_object_get(e, "at_ms")));
        fputs("</td><td class=\"data mono\">", out);
        put(out, json_string_value(json_object_get(e, "data")));
        fputs("</td></tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}

/* Writes what came back: status, size and time, headers, then the body
 * (a stream as its events, with the raw bytes folded) with the offending
 * byte highlighted. */
static void response_write(FILE *out, const json_t *resp)
{
    const char *body = json_string_value(json_object_get(resp, "body"));
    const char *ts = json_string_value(json_object_get(resp, "transport"));
    const json_t *at = json_object_get(resp, "offending_at");
    const json_t *off = json_object_get(resp, "offending_offset");
    const json_t *elapsed = json_object_get(resp, "elapsed_ms");
    bool stream = json_object_get(resp, "events") != NULL;

    if (!json_is_object(resp))
        return;
    fputs("<div class=\"ex\"><div class=\"line\"><b>Response</b>", out);
    if (json_object_get(resp, "status") != NULL)
        fprintf(out, "HTTP %lld",
                (long long)json_integer_value(json_object_get(resp, "status")));
    if (ts != NULL) {
        fputs(" \xC2\xB7 ", out);
        put(out, ts);
        fputs(": ", out);
        put(out, json_string_value(json_object_get(resp, "error")));
    }
    if (json_object_get(resp, "body_bytes") != NULL)
        fprintf(
            out, " \xC2\xB7 %lld bytes",
            (long long)json_integer_value(json_object_get(resp, "body_bytes")));
    if (json_is_number(elapsed)) {
        fputs(" \xC2\xB7 ", out);
        ms_write(out, json_number_value(elapsed));
    }
    if (off != NULL)
        fprintf(out, " \xC2\xB7 offending byte %lld",
                (long long)json_integer_value(off));
    fputs("</div>\n", out);
    headers_write(out, json_object_get(resp, "headers"));
    if (stream)
        events_write(out, resp);
    if (body != NULL) {
        /* The raw bytes of a stream start open when a byte is marked. */
        if (stream)
            fprintf(out, "<details%s><summary>Raw bytes</summary>",
                    at != NULL ? " open=\"open\"" : "");
        if (at != NULL)
            body_marked_write(out, body, (size_t)json_integer_value(at));
        else
            body_write(out, body);
        if (stream)
            fputs("</details>\n", out);
    }
    fputs("</div>\n", out);
}

/* Writes the evidence: request and response laid out for reading, and the
 * whole evidence as JSON, folded, for what the layout leaves out. */
static void evidence_write(FILE *out, const struct check_result *c)
{
    char *ev = NULL;
    size_t len;

    if (c->evidence == NULL)
        goto out;
    fprintf(out, "<details%s><summary>Evidence</summary>\n",
            c->status == CHECK_FAIL || c->status == CHECK_WARN
                ? " open=\"open\""
                : "");
    request_write(out, json_object_get(c->evidence, "request"));
    response_write(out, json_object_get(c->evidence, "response"));
    fputs("<details><summary>Evidence as JSON</summary><pre>", out);
    ev = jsonio_dumps(c->evidence, HTML_JSON_FLAGS);
    if (ev == NULL) {
        fputs("(the evidence could not be rendered as JSON)", out);
    } else {
        len = strlen(ev);
        markup_putn(out, ev, len > HTML_EVIDENCE_MAX ? HTML_EVIDENCE_MAX : len,
                    MARKUP_HTML);
        if (len > HTML_EVIDENCE_MAX)
            fprintf(out, "\n\xE2\x80\xA6 (evidence cut: %zu bytes in all)",
                    len);
    }
    fputs("</pre></details>\n</details>\n", out);
out:
    free(ev);
}

/* Writes one row of a check's facts when it has text. */
static void kv_row(FILE *out, const char *cls, const char *name,
                   const char *text)
{
    if (str(text)[0] == '\0')
        return;
    fprintf(out, "<dt class=\"%s\">%s</dt><dd>", cls, name);
    put(out, text);
    fputs("</dd>", out);
}

/* Writes impact, fix and basis (for a failure or a warning), rule and
 * source. */
static void facts_write(FILE *out, const struct check_result *c, bool rule)
{
    bool acted = c->status == CHECK_FAIL || c->status == CHECK_WARN;

    fputs("<dl class=\"kv\">", out);
    if (acted) {
        kv_row(out, "impact", "Impact", c->impact);
        kv_row(out, "fix", "Fix", c->fix);
        kv_row(out, "basis", "Basis", c->basis);
    }
    if (rule) {
        kv_row(out, "rule", "Rule", c->rule);
        kv_row(out, "source", "Source", c->source);
    }
    fputs("</dl>\n", out);
}

/* The time the check's own answer took, from its evidence, or < 0. */
static double answer_ms(const struct check_result *c)
{
    const json_t *v =
        json_object_get(json_object_get(c->evidence, "response"), "elapsed_ms");

    return json_is_number(v) ? json_number_value(v) : -1;
}

/* Writes the head of a check: badge, id (a link to its card when link),
 * level, the message too when inline, and the time its answer took. */
static void head_write(FILE *out, const struct check_result *c, size_t n,
                       bool link, bool inline_msg)
{
    const char *st = check_status_name(c->status);
    double ms = answer_ms(c);

    fprintf(out, "<div class=\"head\"><span class=\"badge %s\">%s</span> ", st,
            check_status_label(c->status));
    if (link)
        fprintf(out, "<a href=\"#c%zu\">", n);
    fputs("<code class=\"id\">", out);
    put(out, c->id);
    fputs("</code>", out);
    if (link)
        fputs("</a>", out);
    if (c->level != NULL) {
        fputs(" <span class=\"level\">", out);
        put(out, c->level);
        fputs("</span>", out);
    }
    if (inline_msg) {
        fputs("<span class=\"msg\">", out);
        put(out, c->message);
        fputs("</span>", out);
    }
    if (ms >= 0) {
        fputs("<span class=\"time\">answered in ", out);
        ms_write(out, ms);
        fputs("</span>", out);
    }
    fputs("</div>\n", out);
}

/* Writes one check: head, message, facts, evidence; n is its anchor. A
 * failure or a warning shows everything; a pass or a skip folds its rule,
 * source and evidence under one line, so that the page reads as a list. */
static void check_write(FILE *out, const struct check_result *c, size_t n)
{
    bool acted = c->status == CHECK_FAIL || c->status == CHECK_WARN;

    fprintf(out, "<article class=\"check %s\" id=\"c%zu\">\n",
            check_status_name(c->status), n);
    head_write(out, c, n, false, !acted);
    if (acted) {
        fputs("<p class=\"msg\">", out);
        put(out, c->message);
        fputs("</p>\n", out);
    }
    if (!acted)
        fputs("<details class=\"more\"><summary>Rule, source and "
              "evidence</summary>\n",
              out);
    facts_write(out, c, true);
    evidence_write(out, c);
    if (!acted)
        fputs("</details>\n", out);
    fputs("</article>\n", out);
}

/* Writes the failures, then the warnings, each with what it breaks and
 * what to change, linked to its card below; nothing when there are none. */
static void act_write(FILE *out, const struct results *r)
{
    static const enum check_status order[] = {CHECK_FAIL, CHECK_WARN};
    const struct check_result *c;
    size_t i, k, n = 0;

    for (k = 0; k < 2; k++) {
        for (i = 0; i < r->n; i++) {
            c = &r->items[i];
            if (c->status != order[k])
                continue;
            if (n++ == 0)
                fputs("<section class=\"act\" id=\"act\">\n<h2>To act "
                      "on<small>failures first, then warnings</small></h2>\n",
                      out);
            fprintf(out, "<div class=\"item %s\">\n",
                    check_status_name(c->status));
            head_write(out, c, i, true, false);
            fputs("<p class=\"msg\">", out);
            put(out, c->message);
            fputs("</p>\n", out);
            facts_write(out, c, false);
            fputs("</div>\n", out);
        }
    }
    if (n > 0)
        fputs("</section>\n", out);
}

/* Writes a group's heading, with its counts and the time it took, and its
 * checks; n is the group's number, used for its anchor because group names
 * are not safe as ids. */
static void group_write(FILE *out, const struct results *r, size_t first,
                        size_t n)
{
    const struct check_result *lead = &r->items[first];
    size_t i, count = 0, failed = 0, warned = 0;
    double ms = 0;

    for (i = first; i < r->n; i++) {
        if (results_same_group(lead, &r->items[i])) {
            count++;
            failed += r->items[i].status == CHECK_FAIL;
            warned += r->items[i].status == CHECK_WARN;
            ms += r->items[i].duration_ms;
        }
    }
    fprintf(out, "<section class=\"group\" id=\"g%zu\">\n<h2>", n);
    put(out, lead->group);
    fprintf(out, "<small>%zu check%s", count, count == 1 ? "" : "s");
    if (failed > 0)
        fprintf(out, ", %zu failed", failed);
    if (warned > 0)
        fprintf(out, ", %zu warned", warned);
    fputs(", ", out);
    ms_write(out, ms);
    fputs("</small></h2>\n", out);
    for (i = first; i < r->n; i++) {
        if (results_same_group(lead, &r->items[i]))
            check_write(out, &r->items[i], i);
    }
    fputs("</section>\n", out);
}

/* Writes the page head: title, verdict, facts of the run, summary. */
static void top_write(FILE *out, const struct results *r,
                      const struct report_meta *m)
{
    struct results_summary s = results_summarize(r);

    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
          "<meta charset=\"utf-8\"/>\n"
          "<meta name=\"viewport\" "
          "content=\"width=device-width, initial-scale=1\"/>\n"
          "<title>nexus-conform report",
          out);
    if (m != NULL && m->base_url != NULL) {
        fputs(": ", out);
        put(out, m->base_url);
    }
    fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", html_css);
    fputs("<div class=\"wrap\">\n<header>\n<h1>nexus-conform report</h1>\n",
          out);
    if (s.failed > 0)
        fprintf(out,
                "<p class=\"verdict fail\">Not conformant: %zu check%s "
                "failed.</p>\n",
                s.failed, s.failed == 1 ? "" : "s");
    else
        fprintf(out,
                "<p class=\"verdict pass\">Conformant: every check that ran "
                "passed%s.</p>\n",
                s.warned > 0 ? ", with warnings" : "");
    fputs("<dl class=\"meta\">\n", out);
    meta_row(out, "Base URL", m ? m->base_url : NULL, true);
    meta_row(out, "Model", m ? m->model : NULL, true);
    meta_row(out, "Profile", m ? m->profile : NULL, false);
    meta_row(out, "Mode",
             m == NULL || m->mode == NULL ? NULL
             : strcmp(m->mode, "strict") == 0
                 ? "strict: every deviation from the spec's text fails"
                 : "default: a broken contract or a client that breaks "
                   "fails; the spec's text alone warns",
             false);
    meta_row(out, "Date", m ? m->started : NULL, false);
    fputs("<dt>Duration</dt><dd>", out);
    seconds_write(out, m ? m->duration_s : 0);
    fputs("</dd>\n", out);
    meta_row(out, "Version", m ? m->version : NULL, false);
    fputs("</dl>\n<p class=\"summary\">", out);
    badge_count(out, "pass", s.passed, "passed");
    badge_count(out, "fail", s.failed, "failed");
    badge_count(out, "warn", s.warned, "warned");
    badge_count(out, "skip", s.skipped, "skipped");
    fputs("</p>\n</header>\n", out);
}

/* Writes the filter buttons and the links to each group. */
static void nav_write(FILE *out, const struct results *r, const size_t *firsts,
                      size_t ngroups)
{
    struct results_summary s = results_summarize(r);
    size_t g;

    fputs(
        "<input class=\"f\" type=\"radio\" name=\"show\" id=\"show-all\" "
        "checked=\"checked\"/>\n"
        "<input class=\"f\" type=\"radio\" name=\"show\" id=\"show-fail\"/>\n"
        "<input class=\"f\" type=\"radio\" name=\"show\" id=\"show-warn\"/>\n"
        "<input class=\"f\" type=\"radio\" name=\"show\" id=\"show-skip\"/>\n"
        "<input class=\"f\" type=\"radio\" name=\"show\" id=\"show-pass\"/>\n",
        out);
    fprintf(out,
            "<nav class=\"filter\">Show: "
            "<label for=\"show-all\">All (%zu)</label>"
            "<label for=\"show-fail\">Failed (%zu)</label>"
            "<label for=\"show-warn\">Warned (%zu)</label>"
            "<label for=\"show-skip\">Skipped (%zu)</label>"
            "<label for=\"show-pass\">Passed (%zu)</label></nav>\n",
            r->n, s.failed, s.warned, s.skipped, s.passed);
    fputs("<nav class=\"groups\">Groups: ", out);
    for (g = 0; g < ngroups; g++) {
        fprintf(out, "<a href=\"#g%zu\">", g + 1);
        put(out, r->items[firsts[g]].group);
        fputs("</a>", out);
    }
    fputs("</nav>\n", out);
}

/* Writes the page: head, filters, what to act on, then the checks by
 * group in first-seen order. */
int report_html_write(const struct results *r, const struct report_meta *m,
                      FILE *out)
{
    int err = -1;
    size_t *firsts = NULL;
    size_t ngroups = 0, g;

    if (results_groups(r, &firsts, &ngroups) != 0)
        goto out;
    top_write(out, r, m);
    nav_write(out, r, firsts, ngroups);
    act_write(out, r);
    fputs("<main>\n", out);
    if (r->n == 0)
        fputs("<p>No checks ran.</p>\n", out);
    for (g = 0; g < ngroups; g++)
        group_write(out, r, firsts[g], g + 1);
    fputs("</main>\n<footer>Generated by nexus-conform", out);
    if (m != NULL && m->version != NULL) {
        fputc(' ', out);
        put(out, m->version);
    }
    fputs(". Each rule names its source; MUST rules fail, SHOULD rules "
          "warn.</footer>\n</div>\n</body>\n</html>\n",
          out);
    if (fflush(out) != 0 || ferror(out))
        goto out;
    err = 0;
out:
    free(firsts);
    return err;
}
