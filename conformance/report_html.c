/* report_html: writes the run as one self-contained page for people. */
#include "jsonio.h"
#include "result.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "markup.h"

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
    "--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--panel:#f6f8fa}\n"
    "@media (prefers-color-scheme:dark){:root{--pass:#238636;--fail:#da3633;"
    "--warn:#9e6a03;--skip:#656c76;--bg:#0d1117;--fg:#e6edf3;"
    "--muted:#9198a1;--line:#3d444d;--panel:#151b23}}\n"
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
    "code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"
    "monospace;font-size:13px}\n"
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
    ".check{margin:8px 0;padding:10px 14px;border:1px solid var(--line);"
    "border-left:5px solid var(--skip);border-radius:6px}\n"
    ".check.pass{border-left-color:var(--pass)}"
    ".check.fail{border-left-color:var(--fail)}"
    ".check.warn{border-left-color:var(--warn)}\n"
    ".head{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}\n"
    ".head .id{font-weight:600}\n"
    ".head .time{margin-left:auto;color:var(--muted);font-size:13px}\n"
    ".msg{margin:6px 0 0;white-space:pre-wrap;overflow-wrap:anywhere}\n"
    ".kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;"
    "margin:8px 0 0;font-size:14px}\n"
    ".kv dt{color:var(--muted)}.kv dd{margin:0;overflow-wrap:anywhere}\n"
    "details{margin:8px 0 0}\n"
    "summary{cursor:pointer;color:var(--muted);font-size:14px}\n"
    "pre{margin:6px 0 0;padding:10px 12px;background:var(--panel);"
    "border:1px solid var(--line);border-radius:6px;overflow:auto;"
    "max-height:32em;white-space:pre-wrap;overflow-wrap:anywhere}\n"
    "footer{margin-top:40px;color:var(--muted);font-size:13px}\n";

/* Reads a NULL string as empty. */
static const char *str(const char *s)
{
    return s != NULL ? s : "";
}

/* Writes a fact of the run, or a dash when it is not known. */
static void meta_row(FILE *out, const char *name, const char *value, bool code)
{
    fprintf(out, "<dt>%s</dt><dd>", name);
    if (value == NULL || value[0] == '\0') {
        fputs("\xE2\x80\x94", out);
    } else {
        fputs(code ? "<code>" : "", out);
        markup_put(out, value, MARKUP_HTML);
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

/* Writes one summary badge, dimmed when its count is zero. */
static void badge_count(FILE *out, const char *cls, size_t n, const char *word)
{
    fprintf(out, "<span class=\"badge %s%s\">%zu %s</span>", cls,
            n == 0 ? " zero" : "", n, word);
}

/* Writes the evidence, pretty-printed, in a block that starts open for a
 * failure, since that is what the reader came for. */
static void evidence_write(FILE *out, const struct check_result *c)
{
    char *ev = NULL;
    size_t len;

    if (c->evidence == NULL)
        goto out;
    fprintf(out, "<details%s><summary>Evidence</summary><pre>",
            c->status == CHECK_FAIL ? " open=\"open\"" : "");
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
    fputs("</pre></details>\n", out);
out:
    free(ev);
}

/* Writes one check: badge, id, time, message, rule, source, evidence. */
static void check_write(FILE *out, const struct check_result *c)
{
    const char *st = check_status_name(c->status);

    fprintf(out, "<article class=\"check %s\">\n<div class=\"head\">", st);
    fprintf(out, "<span class=\"badge %s\">%s</span> <code class=\"id\">", st,
            check_status_label(c->status));
    markup_put(out, c->id, MARKUP_HTML);
    fprintf(out, "</code><span class=\"time\">%llu ms</span></div>\n",
            whole(c->duration_ms));
    fputs("<p class=\"msg\">", out);
    markup_put(out, c->message, MARKUP_HTML);
    fputs("</p>\n", out);
    if (str(c->rule)[0] != '\0' || str(c->source)[0] != '\0') {
        fputs("<dl class=\"kv\">", out);
        if (str(c->rule)[0] != '\0') {
            fputs("<dt>Rule</dt><dd>", out);
            markup_put(out, c->rule, MARKUP_HTML);
            fputs("</dd>", out);
        }
        if (str(c->source)[0] != '\0') {
            fputs("<dt>Source</dt><dd>", out);
            markup_put(out, c->source, MARKUP_HTML);
            fputs("</dd>", out);
        }
        if (c->level != NULL && c->basis != NULL) {
            fputs("<dt>Level</dt><dd>", out);
            markup_put(out, c->level, MARKUP_HTML);
            fputs("</dd><dt>Basis</dt><dd>", out);
            markup_put(out, c->basis, MARKUP_HTML);
            fputs("</dd>", out);
        }
        fputs("</dl>\n", out);
    }
    evidence_write(out, c);
    fputs("</article>\n", out);
}

/* Writes a group's heading and its checks; n is the group's number, used
 * for its anchor because group names are not safe as ids. */
static void group_write(FILE *out, const struct results *r, size_t first,
                        size_t n)
{
    const struct check_result *lead = &r->items[first];
    size_t i, count = 0, failed = 0, warned = 0;

    for (i = first; i < r->n; i++) {
        if (results_same_group(lead, &r->items[i])) {
            count++;
            failed += r->items[i].status == CHECK_FAIL;
            warned += r->items[i].status == CHECK_WARN;
        }
    }
    fprintf(out, "<section class=\"group\" id=\"g%zu\">\n<h2>", n);
    markup_put(out, lead->group, MARKUP_HTML);
    fprintf(out, "<small>%zu check%s", count, count == 1 ? "" : "s");
    if (failed > 0)
        fprintf(out, ", %zu failed", failed);
    if (warned > 0)
        fprintf(out, ", %zu warned", warned);
    fputs("</small></h2>\n", out);
    for (i = first; i < r->n; i++) {
        if (results_same_group(lead, &r->items[i]))
            check_write(out, &r->items[i]);
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
        markup_put(out, m->base_url, MARKUP_HTML);
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
        markup_put(out, r->items[firsts[g]].group, MARKUP_HTML);
        fputs("</a>", out);
    }
    fputs("</nav>\n", out);
}

/* Writes the page: head, filters, checks by group in first-seen order. */
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
    fputs("<main>\n", out);
    if (r->n == 0)
        fputs("<p>No checks ran.</p>\n", out);
    for (g = 0; g < ngroups; g++)
        group_write(out, r, firsts[g], g + 1);
    fputs("</main>\n<footer>Generated by nexus-conform", out);
    if (m != NULL && m->version != NULL) {
        fputc(' ', out);
        markup_put(out, m->version, MARKUP_HTML);
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
