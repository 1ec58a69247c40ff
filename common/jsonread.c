/* jsonread: a recursive-descent reader over the whole text, building the
 * tree with the calls jansson's parser makes; any doubt sends the text
 * back to jansson. */
#include "jsonread.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* The longest number text read here; a longer one goes to jansson. */
#define JSONREAD_NUMBER_MAX 63
/* The most digits of an integer read here: 18 always fit an int64_t, so
 * no overflow needs telling apart (jansson reports those). */
#define JSONREAD_DIGITS_MAX 18

/* One reading: the text, where it is, how deep, and why it stopped. */
struct jsonread {
    const char *s;
    size_t len, pos;
    unsigned depth;
    bool oom; /* an allocation failed (the text may be fine) */
};

static json_t *read_value(struct jsonread *r);

/* Skips JSON whitespace (what jansson skips: space, tab, LF, CR). */
static void skip_ws(struct jsonread *r)
{
    while (r->pos < r->len && (r->s[r->pos] == ' ' || r->s[r->pos] == '\t' ||
                               r->s[r->pos] == '\n' || r->s[r->pos] == '\r'))
        r->pos++;
}

/* Consumes c (after whitespace) when it comes next. */
static bool take(struct jsonread *r, char c)
{
    skip_ws(r);
    if (r->pos < r->len && r->s[r->pos] == c) {
        r->pos++;
        return true;
    }
    return false;
}

/* The value of hex digit c, or -1. */
static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads the 4 hex digits of a \u escape at s[*i] (the 'u' already passed)
 * from the end bytes; returns the code unit, or -1. */
static long read_hex4(const char *s, size_t end, size_t *i)
{
    long v = 0;
    int k, d;

    if (end - *i < 4)
        return -1;
    for (k = 0; k < 4; k++) {
        d = hex_value(s[*i + k]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    *i += 4;
    return v;
}

/* Writes code point cp as UTF-8 at out; returns the bytes written. */
static size_t put_utf8(char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes the escape at s[*i] (just past the backslash, before end) into
 * out, moving *i past it. Returns the bytes written, or 0 for what goes
 * to jansson: an unknown escape, \u0000, a lone or broken surrogate. */
static size_t decode_escape(const char *s, size_t end, size_t *i, char *out)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *hit;
    long hi, lo;

    if (*i >= end)
        return 0;
    if (s[*i] != 'u') {
        hit = s[*i] != '\0' ? strchr(from, s[*i]) : NULL;
        if (hit == NULL)
            return 0;
        (*i)++;
        out[0] = to[hit - from];
        return 1;
    }
    (*i)++;
    hi = read_hex4(s, end, i);
    if (hi <= 0 || (hi >= 0xDC00 && hi <= 0xDFFF))
        return 0;
    if (hi < 0xD800 || hi > 0xDBFF)
        return put_utf8(out, (unsigned long)hi);
    if (end - *i < 2 || s[*i] != '\\' || s[*i + 1] != 'u')
        return 0;
    *i += 2;
    lo = read_hex4(s, end, i);
    if (lo < 0xDC00 || lo > 0xDFFF)
        return 0;
    return put_utf8(out, 0x10000 + (((unsigned long)hi - 0xD800) << 10) +
                             ((unsigned long)lo - 0xDC00));
}

/* Decodes the string body s[start, end) that holds escapes or non-ASCII
 * bytes into a new buffer (*out, freed by the caller; decoding never
 * lengthens), checking its UTF-8. Returns the decoded length, or -1 with
 * *out NULL: the string goes to jansson, or (r->oom) memory ran out. */
static long decode_string(struct jsonread *r, size_t start, size_t end,
                          char **out)
{
    char *d = malloc(end - start + 1);
    size_t i = start, n = 0, k;

    *out = NULL;
    if (d == NULL) {
        r->oom = true;
        return -1;
    }
    while (i < end) {
        unsigned char c = (unsigned char)r->s[i];

        if (c == '\\') {
            i++;
            k = decode_escape(r->s, end, &i, d + n);
        } else if (c < 0x20) {
            k = 0;
        } else {
            k = c < 0x80
                    ? 1
                    : utf8_seq_len((const unsigned char *)r->s + i, end - i);
            memcpy(d + n, r->s + i, k);
            i += k;
        }
        if (k == 0) {
            free(d);
            return -1;
        }
        n += k;
    }
    *out = d;
    return (long)n;
}

/* Reads a string token at r->pos (its opening quote); sets *text and *n to
 * its bytes: in the text itself when it is plain, else in a new buffer
 * *owned (the caller frees it). Returns 0, or -1 (to jansson, or OOM). */
static int read_string(struct jsonread *r, const char **text, size_t *n,
                       char **owned)
{
    size_t start, end;
    long len;

    *owned = NULL;
    if (r->pos >= r->len || r->s[r->pos] != '"')
        return -1;
    start = ++r->pos;
    end = start + utf8_json_plain(r->s + start, r->len - start);
    if (end < r->len && r->s[end] == '"') {
        *text = r->s + start;
        *n = end - start;
        r->pos = end + 1;
        return 0;
    }
    /* The closing quote is the first one no backslash escapes. */
    while (end < r->len && r->s[end] != '"')
        end += r->s[end] == '\\' ? 2 : 1;
    if (end >= r->len)
        return -1;
    len = decode_string(r, start, end, owned);
    if (len < 0)
        return -1;
    *text = *owned;
    *n = (size_t)len;
    r->pos = end + 1;
    return 0;
}

/* Skips the digits at r->pos; returns how many. */
static size_t skip_digits(struct jsonread *r)
{
    size_t n = 0;

    while (r->pos < r->len && r->s[r->pos] >= '0' && r->s[r->pos] <= '9') {
        r->pos++;
        n++;
    }
    return n;
}

/* The powers of ten a double holds exactly. */
static const double exact_pow10[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* Converts the real number text t[0..n) (its grammar checked) to the
 * double strtod gives, when one IEEE operation does it: at most 15
 * significant digits (exact as a double) and a power of ten of at most 22
 * (exact too), so that one correctly rounded multiply or divide is the
 * correctly rounded value (Clinger's fast path). Returns false when it
 * cannot tell; strtod then does. A profile of an SDK-like body showed
 * strtod at 0.5% of the mock's CPU for "temperature":0.7. */
static bool real_quick(const char *t, size_t n, double *out)
{
    uint64_t m = 0;
    unsigned digits = 0, e = 0;
    int exp10 = 0;
    bool negative = t[0] == '-', fraction = false, eneg = false;
    size_t i = negative;
    double d;

    for (; i < n && t[i] != 'e' && t[i] != 'E'; i++) {
        if (t[i] == '.') {
            fraction = true;
            continue;
        }
        if ((m != 0 || t[i] != '0') && ++digits > 15)
            return false;
        m = m * 10 + (uint64_t)(t[i] - '0');
        exp10 -= fraction;
    }
    if (i < n) { /* the exponent */
        i++;
        eneg = t[i] == '-';
        i += t[i] == '-' || t[i] == '+';
        for (; i < n; i++) {
            e = e * 10 + (unsigned)(t[i] - '0');
            if (e > 1000)
                return false;
        }
    }
    exp10 += eneg ? -(int)e : (int)e;
    if (m == 0)
        d = 0.0;
    else if (exp10 >= 0 && exp10 <= 22)
        d = (double)m * exact_pow10[exp10];
    else if (exp10 < 0 && exp10 >= -22)
        d = (double)m / exact_pow10[-exp10];
    else
        return false;
    *out = negative ? -d : d;
    return true;
}

/* Reads a number: an integer (no fraction, no exponent) of at most
 * JSONREAD_DIGITS_MAX digits exactly, a real through strtod as jansson
 * does; NULL for what goes to jansson (bad grammar, longer integers, an
 * overflowing real) or on OOM. */
static json_t *read_number(struct jsonread *r)
{
    char text[JSONREAD_NUMBER_MAX + 1], *stop;
    size_t start = r->pos, digits;
    bool negative = r->pos < r->len && r->s[r->pos] == '-', real = false;
    int64_t v = 0;
    double d;
    size_t i;
    json_t *num;

    r->pos += negative;
    digits = skip_digits(r);
    if (digits == 0 || (digits > 1 && r->s[r->pos - digits] == '0'))
        return NULL;
    if (r->pos < r->len && r->s[r->pos] == '.') {
        r->pos++;
        real = true;
        if (skip_digits(r) == 0)
            return NULL;
    }
    if (r->pos < r->len && (r->s[r->pos] == 'e' || r->s[r->pos] == 'E')) {
        r->pos++;
        real = true;
        if (r->pos < r->len && (r->s[r->pos] == '+' || r->s[r->pos] == '-'))
            r->pos++;
        if (skip_digits(r) == 0)
            return NULL;
    }
    if (!real) {
        if (digits > JSONREAD_DIGITS_MAX)
            return NULL;
        for (i = r->pos - digits; i < r->pos; i++)
            v = v * 10 + (r->s[i] - '0');
        num = json_integer(negative ? -v : v);
    } else if (real_quick(r->s + start, r->pos - start, &d)) {
        num = json_real(d);
    } else {
        if (r->pos - start > JSONREAD_NUMBER_MAX)
            return NULL;
        memcpy(text, r->s + start, r->pos - start);
        text[r->pos - start] = '\0';
        errno = 0;
        d = strtod(text, &stop);
        if (stop != text + (r->pos - start) ||
            ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE))
            return NULL;
        num = json_real(d);
    }
    if (num == NULL)
        r->oom = true;
    return num;
}

/* Reads the literal word (true, false, null) at r->pos into value (a new
 * reference), or NULL. */
static json_t *read_word(struct jsonread *r, const char *word, json_t *value)
{
    size_t n = strlen(word);

    if (r->len - r->pos < n || memcmp(r->s + r->pos, word, n) != 0)
        return NULL;
    r->pos += n;
    return value;
}

/* Reads one member of an object ("key": value) or one element of an
 * array into c. Returns 0, or -1 (to jansson, or r->oom). */
static int read_member(struct jsonread *r, json_t *c)
{
    const char *key = NULL;
    char *owned = NULL;
    json_t *value = NULL;
    size_t n = 0;
    int rc = -1;

    if (json_is_object(c)) {
        skip_ws(r);
        if (read_string(r, &key, &n, &owned) != 0 || !take(r, ':'))
            goto out;
    }
    value = read_value(r);
    if (value == NULL)
        goto out;
    /* Both steal the value, even when they fail. */
    rc = key != NULL ? json_object_setn_new_nocheck(c, key, n, value)
                     : json_array_append_new(c, value);
    if (rc != 0)
        r->oom = true;
out:
    free(owned);
    return rc;
}

/* Reads the members of an object, or the elements of an array, whose
 * opening bracket was read, and the closing one. */
static json_t *read_container(struct jsonread *r, bool object)
{
    json_t *c = object ? json_object() : json_array();
    char close = object ? '}' : ']';

    if (c == NULL) {
        r->oom = true;
        return NULL;
    }
    if (take(r, close))
        return c;
    do {
        if (read_member(r, c) != 0)
            goto fail;
    } while (take(r, ','));
    if (take(r, close))
        return c;
fail:
    json_decref(c);
    return NULL;
}

/* Reads the value at r->pos (after whitespace); NULL goes to jansson. */
static json_t *read_value(struct jsonread *r)
{
    json_t *v = NULL;
    const char *text;
    char *owned;
    size_t n;

    skip_ws(r);
    if (r->pos >= r->len)
        return NULL;
    switch (r->s[r->pos]) {
    case '{':
    case '[':
        if (r->depth >= JSONREAD_MAX_DEPTH)
            return NULL;
        r->depth++;
        r->pos++;
        v = read_container(r, r->s[r->pos - 1] == '{');
        r->depth--;
        break;
    case '"':
        if (read_string(r, &text, &n, &owned) != 0)
            return NULL;
        v = json_stringn_nocheck(text, n);
        free(owned);
        if (v == NULL)
            r->oom = true;
        break;
    case 't':
        v = read_word(r, "true", json_true());
        break;
    case 'f':
        v = read_word(r, "false", json_false());
        break;
    case 'n':
        v = read_word(r, "null", json_null());
        break;
    default:
        v = read_number(r);
        break;
    }
    return v;
}

json_t *jsonread_doc(const char *text, size_t len, bool *oom)
{
    struct jsonread r = {text, len, 0, 0, false};
    json_t *doc = NULL;

    *oom = false;
    if (text == NULL)
        goto out;
    skip_ws(&r);
    if (r.pos >= len || (text[r.pos] != '{' && text[r.pos] != '['))
        goto out;
    doc = read_value(&r);
    skip_ws(&r);
    if (doc != NULL && (r.pos != len || r.oom)) {
        json_decref(doc);
        doc = NULL;
    }
    *oom = r.oom;
out:
    return doc;
}
