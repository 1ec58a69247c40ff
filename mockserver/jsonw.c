/* jsonw: objects, keys, escaped strings and exact decimal numbers, written
 * straight into a capped buffer. */
#include "jsonw.h"

#include <stdint.h>
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

/* Bytes of 8 alike, for plain_ascii's tests of 8 bytes at a time. */
#define JSONW_ONES UINT64_C(0x0101010101010101)
#define JSONW_HIGHS UINT64_C(0x8080808080808080)

/* Is any byte of x below n (n <= 128)? The high bit of a byte of x - n
 * borrows in only where that byte was below n or, for x's bytes of 128
 * and up, which ~x masks out; the test is exact for the whole word. */
static uint64_t any_below(uint64_t x, unsigned n)
{
    return (x - JSONW_ONES * n) & ~x & JSONW_HIGHS;
}

/* Is s[0..len) ASCII that a JSON string holds as it is: no byte to escape,
 * and none that needs the UTF-8 check? What the chat answer writes almost
 * always is (keys, ids, the model, generated prose). Eight bytes a step:
 * a profile showed the byte loop at most of the writer's time. */
static bool plain_ascii(const char *s, size_t len)
{
    uint64_t x, bad = 0;
    size_t i = 0;

    for (; i + 8 <= len && bad == 0; i += 8) {
        memcpy(&x, s + i, 8);
        bad = (x & JSONW_HIGHS) | any_below(x, 0x20) |
              any_below(x ^ (JSONW_ONES * '"'), 1) |
              any_below(x ^ (JSONW_ONES * '\\'), 1);
    }
    for (; i < len && bad == 0; i++) {
        unsigned char c = (unsigned char)s[i];

        bad = c < 0x20 || c >= 0x80 || c == '"' || c == '\\';
    }
    return bad == 0;
}

int jsonw_escape(struct buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    static const char shortcut[0x20] = {
        ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r'};
    size_t i, run = 0;

    if (plain_ascii(s, len))
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

/* Writes len bytes of s as a JSON string (jsonw_escape between quotes):
 * plain text in one piece, the prefix (a comma, or nothing) before it and
 * the suffix (a colon after a key, or nothing) after it. A profile of the
 * chat answer showed jsonw's appends, five a key, at 3.6% of the mock's
 * CPU. */
static void put_string(struct jsonw *w, const char *prefix, const char *s,
                       size_t len, const char *suffix)
{
    size_t np = strlen(prefix), ns = strlen(suffix);
    char *at;

    if (w->failed)
        return;
    if (plain_ascii(s, len)) {
        at = buf_extend(w->out, np + len + ns + 2);
        if (at == NULL) {
            w->failed = true;
            return;
        }
        memcpy(at, prefix, np);
        at[np] = '"';
        memcpy(at + np + 1, s, len);
        at[np + 1 + len] = '"';
        memcpy(at + np + len + 2, suffix, ns);
        return;
    }
    put(w, prefix, np);
    put(w, "\"", 1);
    if (!w->failed && jsonw_escape(w->out, s, len) != 0)
        w->failed = true;
    put(w, "\"", 1);
    put(w, suffix, ns);
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
    put_string(w, w->member[w->depth] ? "," : "", key, strlen(key), ":");
    w->member[w->depth] = true;
    w->want_value = true;
}

void jsonw_string(struct jsonw *w, const char *s)
{
    if (!value_allowed(w))
        return;
    put_string(w, "", s, strlen(s), "");
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
    put_string(w, "", s, len, "");
    value_written(w);
}

void jsonw_int(struct jsonw *w, long long v)
{
    char digits[24], *p = digits + sizeof(digits);
    unsigned long long u =
        v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

    if (!value_allowed(w))
        return;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (v < 0)
        *--p = '-';
    put(w, p, (size_t)(digits + sizeof(digits) - p));
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
