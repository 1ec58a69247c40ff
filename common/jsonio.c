/* jsonio: jansson's parser and printer with every allocation failure seen,
 * through an allocation hook (in) and a sink that remembers (out). */
#include "jsonio.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonread.h"

/* Allocations jansson could not get, counted per thread. A mutable global,
 * the one way to hear from the hook: jansson's allocation functions take
 * no context. Each thread touches only its own, so it needs no lock. */
static _Thread_local unsigned long jsonio_failures;

/* The allocator jansson had before jsonio_init, which the hook calls.
 * Written once, by jsonio_init, before threads start. */
static json_malloc_t jsonio_next = malloc;

/* jansson's malloc: the one it had before, counting failures. */
static void *jsonio_malloc(size_t size)
{
    void *p = jsonio_next(size);

    if (p == NULL)
        jsonio_failures++;
    return p;
}

void jsonio_init(void)
{
    json_malloc_t m;
    json_free_t f;

    json_get_alloc_funcs(&m, &f);
    if (m == jsonio_malloc)
        return;
    jsonio_next = m;
    json_set_alloc_funcs(jsonio_malloc, f);
}

/* Sets err as json_loadb leaves it after reading the len bytes of a
 * document: no error, the position at the end. */
static void loaded(json_error_t *err, size_t len)
{
    static const char source[] = "<buffer>";

    err->line = -1;
    err->column = -1;
    err->position = (int)len;
    memcpy(err->source, source, sizeof(source));
    err->text[0] = '\0';
}

json_t *jsonio_loadb(const char *text, size_t len, size_t flags,
                     json_error_t *err, bool *oom)
{
    unsigned long before;
    json_t *doc;

    /* Zeroed: where jansson returns before setting an error (its first
     * allocation failed), the code reads as json_error_unknown, not as
     * stack garbage. */
    memset(err, 0, sizeof(*err));
    /* The quick reader builds the tree jansson would, for the usual text;
     * anything else is jansson's to read (and to report). A reading that
     * ran out of memory is dropped, as one of jansson's is. */
    if (flags == 0) {
        doc = jsonread_doc(text, len, oom);
        if (doc != NULL)
            loaded(err, len);
        if (doc != NULL || *oom)
            return doc;
    }
    before = jsonio_failures;
    doc = json_loadb(text, len, flags, err);
    /* jansson 2.14 never says json_error_out_of_memory when parsing: a
     * failure leaves the text empty, or (a string it could not copy)
     * reads as a syntax error, or (its lexer's buffer) loses bytes. */
    *oom = jsonio_failures != before ||
           json_error_code(err) == json_error_out_of_memory ||
           (doc == NULL && err->text[0] == '\0');
    if (*oom) {
        json_decref(doc);
        doc = NULL;
    }
    return doc;
}

/* Where a rendering goes, and whether any of it was lost. */
struct jsonio_sink {
    struct buf *b;
    bool failed;
};

/* json_dump_callback sink. Once a piece is refused every later one is too,
 * so what jansson ignores (a key it could not write) still counts. */
static int jsonio_put(const char *bytes, size_t n, void *data)
{
    struct jsonio_sink *s = data;

    if (!s->failed && buf_append(s->b, bytes, n) != 0)
        s->failed = true;
    return s->failed ? -1 : 0;
}

int jsonio_append(struct buf *b, const json_t *v, size_t flags)
{
    struct jsonio_sink sink = {b, false};
    unsigned long before = jsonio_failures;
    size_t len = b->len;

    if (json_dump_callback(v, jsonio_put, &sink, flags) != 0 ||
        jsonio_failures != before)
        sink.failed = true;
    if (sink.failed)
        buf_truncate(b, len);
    return sink.failed ? -1 : 0;
}

char *jsonio_dumps(const json_t *v, size_t flags)
{
    struct buf b;
    char *text = NULL;

    buf_init(&b, SIZE_MAX);
    if (jsonio_append(&b, v, flags) == 0)
        text = buf_take(&b, NULL);
    buf_cleanup(&b);
    return text;
}
