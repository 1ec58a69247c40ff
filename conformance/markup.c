/* markup: escapes report text for XML and HTML, whatever a server sent. */
#include "markup.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "result.h"

/* The bytes that are escaped, and how, in each mode (indexed by enum
 * markup_mode). NULL: the byte shows as its control picture instead.
 * XML attribute normalisation would turn tabs and line ends into spaces,
 * so attributes write them as references; in XML text quotes stay as they
 * are, so the evidence reads as JSON; HTML keeps LF and tab for <pre>.
 * Every mode hides CR: XML as a reference, HTML as a control picture. */
static const struct {
    unsigned char c;
    const char *as[3];
} escapes[] = {
    {'&', {"&amp;", "&amp;", "&amp;"}}, {'<', {"&lt;", "&lt;", "&lt;"}},
    {'>', {"&gt;", "&gt;", "&gt;"}},    {'"', {"\"", "&quot;", "&quot;"}},
    {'\'', {"'", "&apos;", "&#39;"}},   {'\n', {"\n", "&#10;", "\n"}},
    {'\t', {"\t", "&#9;", "\t"}},       {'\r', {"&#13;", "&#13;", NULL}},
};

/* Writes one byte of valid UTF-8 text escaped for mode. Control characters
 * have no place in XML 1.0 and are parse errors (and invisible) in HTML, so
 * they show as their Unicode control pictures (U+2400 + c, DEL U+2421). */
static void markup_byte(FILE *out, unsigned char c, enum markup_mode mode)
{
    const char *as = NULL;
    size_t i;

    for (i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
        if (escapes[i].c == c) {
            as = escapes[i].as[mode];
            break;
        }
    }
    if (as != NULL) {
        fputs(as, out);
    } else if (c < 0x20) {
        fputc(0xE2, out);
        fputc(0x90, out);
        fputc(0x80 + c, out);
    } else if (c == 0x7F) {
        fputs("\xE2\x90\xA1", out);
    } else {
        fputc(c, out);
    }
}

/* True if the n bytes at u start with a C1 control (U+0080 to U+009F). */
static bool is_c1(const unsigned char *u, size_t n)
{
    return n >= 2 && u[0] == 0xC2 && u[1] >= 0x80 && u[1] <= 0x9F;
}

/* True if the n bytes at u start with U+FFFE or U+FFFF, which XML forbids
 * and HTML calls a parse error. */
static bool is_nonchar(const unsigned char *u, size_t n)
{
    return n >= 3 && u[0] == 0xEF && u[1] == 0xBF &&
           (u[2] == 0xBE || u[2] == 0xBF);
}

/* Cleans the text to UTF-8 first, then escapes it byte by byte. */
void markup_putn(FILE *out, const char *s, size_t n, enum markup_mode mode)
{
    char *clean = results_utf8_clean(s, n);
    const unsigned char *u = (const unsigned char *)clean;
    size_t i = 0, len;

    if (clean == NULL) {
        /* Out of memory: ASCII only is still well-formed. */
        for (i = 0; i < n; i++)
            markup_byte(out, (unsigned char)s[i] < 0x80 ? s[i] : '?', mode);
        goto out;
    }
    len = strlen(clean);
    while (i < len) {
        if (mode == MARKUP_HTML && is_c1(u + i, len - i)) {
            fputs("\xEF\xBF\xBD", out);
            i += 2;
        } else if (is_nonchar(u + i, len - i)) {
            fputs("\xEF\xBF\xBD", out);
            i += 3;
        } else {
            markup_byte(out, u[i], mode);
            i++;
        }
    }
out:
    free(clean);
}

/* Reads NULL as the empty string. */
void markup_put(FILE *out, const char *s, enum markup_mode mode)
{
    const char *text = s != NULL ? s : "";

    markup_putn(out, text, strlen(text), mode);
}
