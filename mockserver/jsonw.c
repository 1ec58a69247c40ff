/* jsonw: objects, keys, escaped strings and exact decimal numbers, written
 * straight into a capped buffer. */
#include "jsonw.h"

#include <string.h>

#include "utf8.h"

void jsonw_init(struct jsonw *w, struct buf *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
}

/* Appends n bytes, or marks the writer failed. */
static void put(struct jsonw *w, const char *bytes, size_t n)
{
    if (!w->failed && buf_append(w->out, bytes, n) != 0)
        w->failed = true;
}

/* Says whether a value may be written now (at the top, once, after a key,
 * or as an array's element, after a comma when one came before), marking
 * the writer failed when not. */
static bool value_allowed(struct jsonw *w)
{
    if (w->failed || w->done ||
        (w->depth > 0 && !w->array[w->depth] && !w->want_value)) {
        w->failed = true;
        return false;
    }
    if (w->depth > 0 && w->array[w->depth]) {
        if (w->member[w->depth])
            put(w, ",", 1);
        w->member[w->depth] = true;
    }
    w->want_value = false;
    return !w->failed;
}

/* Notes that a value was written: at the top, the writer is complete. */
static void value_written(struct jsonw *w)
{
    if (w->depth == 0)
        w->done = true;
}

int jsonw_escape(struct buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    static const char shortcut[0x20] = {
        ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r'};
    size_t i, run = 0;

    if (utf8_json_plain(s, len) == len)
        return buf_append(out, s, len);
    if (!utf8_valid(s, len))
        return -1;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        size_t n = 2;

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (c == '"' || c == '\\')
            esc[1] = (char)c;
        else if (shortcut[c] != '\0')
            esc[1] = shortcut[c];
        else
            n = sizeof(esc);
        if (buf_append(out, s + run, i - run) != 0 ||
            buf_append(out, esc, n) != 0)
            return -1;
        run = i + 1;
    }
    return buf_append(out, s + run, len - run);
}

/* Appends len bytes of s as a JSON string (jsonw_escape between quotes),
 * after a comma when comma is set and before a colon (a key's) when colon
 * is: plain text (utf8_json_plain) in one piece. A profile of the chat
 * answer showed jsonw's appends, five a key, at 3.6% of the mock's CPU.
 * Returns 0, or -1 (not UTF-8, or the buffer refused: part of it may have
 * been appended). */
static int append_string(struct buf *out, bool comma, const char *s, size_t len,
                         bool colon)
{
    char *at;

    if (utf8_json_plain(s, len) == len) {
        at = buf_extend(out, comma + len + 2 + colon);
        if (at == NULL)
            return -1;
        if (comma)
            *at++ = ',';
        *at++ = '"';
        memcpy(at, s, len);
        at[len] = '"';
        if (colon)
            at[len + 1] = ':';
        return 0;
    }
    if ((comma && buf_append(out, ",", 1) != 0) ||
        buf_append(out, "\"", 1) != 0 || jsonw_escape(out, s, len) != 0 ||
        buf_append(out, "\"", 1) != 0 ||
        (colon && buf_append(out, ":", 1) != 0))
        return -1;
    return 0;
}

/* append_string for the writer, which fails with it. */
static void put_string(struct jsonw *w, bool comma, const char *s, size_t len,
                       bool colon)
{
    if (!w->failed && append_string(w->out, comma, s, len, colon) != 0)
        w->failed = true;
}

int jsonw_put_string(struct buf *out, const char *s, size_t len)
{
    if (s == NULL)
        return buf_append(out, "null", 4);
    return append_string(out, false, s, len, false);
}

int jsonw_put_int(struct buf *out, long long v)
{
    char digits[24], *p = digits + sizeof(digits);
    unsigned long long u =
        v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (v < 0)
        *--p = '-';
    return buf_append(out, p, (size_t)(digits + sizeof(digits) - p));
}

/* Skips the digits at *p; returns how many there were. */
static size_t digits(const char **p)
{
    size_t n = 0;

    while (**p >= '0' && **p <= '9') {
        (*p)++;
        n++;
    }
    return n;
}

/* Does text follow RFC 8259's number grammar:
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool is_number(const char *text)
{
    const char *p = text;

    if (*p == '-')
        p++;
    if (*p == '0' && p[1] >= '0' && p[1] <= '9')
        return false; /* no leading zeros */
    if (digits(&p) == 0)
        return false;
    if (*p == '.') {
        p++;
        if (digits(&p) == 0)
            return false;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (digits(&p) == 0)
            return false;
    }
    return *p == '\0';
}

/* Opens an object ("{") or an array ("["). */
static void open_container(struct jsonw *w, bool array)
{
    if (!value_allowed(w))
        return;
    if (w->depth >= JSONW_MAX_DEPTH) {
        w->failed = true;
        return;
    }
    put(w, array ? "[" : "{", 1);
    w->depth++;
    w->member[w->depth] = false;
    w->array[w->depth] = array;
}

/* Closes the innermost container, which must be of the kind given. */
static void close_container(struct jsonw *w, bool array)
{
    if (w->failed || w->depth == 0 || w->want_value ||
        w->array[w->depth] != array) {
        w->failed = true;
        return;
    }
    put(w, array ? "]" : "}", 1);
    w->depth--;
    value_written(w);
}

void jsonw_object_open(struct jsonw *w)
{
    open_container(w, false);
}

void jsonw_object_close(struct jsonw *w)
{
    close_container(w, false);
}

void jsonw_array_open(struct jsonw *w)
{
    open_container(w, true);
}

void jsonw_array_close(struct jsonw *w)
{
    close_container(w, true);
}

void jsonw_key(struct jsonw *w, const char *key)
{
    if (w->failed || w->depth == 0 || w->array[w->depth] || w->want_value) {
        w->failed = true;
        return;
    }
    put_string(w, w->member[w->depth], key, strlen(key), true);
    w->member[w->depth] = true;
    w->want_value = true;
}

void jsonw_string(struct jsonw *w, const char *s)
{
    if (!value_allowed(w))
        return;
    put_string(w, false, s, strlen(s), false);
    value_written(w);
}

void jsonw_number(struct jsonw *w, const char *text)
{
    if (!value_allowed(w))
        return;
    if (!is_number(text)) {
        w->failed = true;
        return;
    }
    put(w, text, strlen(text));
    value_written(w);
}

void jsonw_stringn(struct jsonw *w, const char *s, size_t len)
{
    if (s == NULL) {
        jsonw_null(w);
        return;
    }
    if (!value_allowed(w))
        return;
    put_string(w, false, s, len, false);
    value_written(w);
}

void jsonw_int(struct jsonw *w, long long v)
{
    if (!value_allowed(w))
        return;
    if (jsonw_put_int(w->out, v) != 0)
        w->failed = true;
    value_written(w);
}

void jsonw_null(struct jsonw *w)
{
    if (!value_allowed(w))
        return;
    put(w, "null", 4);
    value_written(w);
}

int jsonw_finish(const struct jsonw *w)
{
    return !w->failed && w->done ? 0 : -1;
}
