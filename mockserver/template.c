/* template: a template is a list of parts, each literal text or a slot. */
#include "template.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "suggest.h"

/* A rendered reply is bounded like a generated one. */
#define TEMPLATE_MAX_BYTES ((size_t)1 << 24)
/* Longest slot name quoted back in a message. */
#define TEMPLATE_NAME_MAX 40

enum slot {
    SLOT_TEXT, /* literal text, not a slot */
    SLOT_LAST_USER,
    SLOT_MODEL,
    SLOT_COUNT,
    SLOT_TURN,
    SLOT_NOW,
};

/* The names of the slots, in enum order after SLOT_TEXT. */
static const char *const slot_names[] = {"last_user_message", "model", "count",
                                         "turn", "now"};

struct part {
    enum slot slot;
    char *text; /* owned; SLOT_TEXT only */
    size_t len;
};

struct template
{
    struct part *parts; /* owned */
    size_t n;
};

void template_free(struct template *t)
{
    size_t i;

    if (t == NULL)
        return;
    for (i = 0; i < t->n; i++)
        free(t->parts[i].text);
    free(t->parts);
    free(t);
}

/* Appends a part: a slot, or len bytes of literal text (copied). */
static int add_part(struct template *t, enum slot slot, const char *s,
                    size_t len)
{
    int err = -1;
    struct part *grown, p = {slot, NULL, len};

    if (slot == SLOT_TEXT) {
        if (len == 0)
            return 0;
        p.text = strndup(s, len);
        if (p.text == NULL)
            goto out;
    }
    grown = realloc(t->parts, (t->n + 1) * sizeof(*grown));
    if (grown == NULL)
        goto out;
    t->parts = grown;
    t->parts[t->n++] = p;
    p.text = NULL; /* the template owns it now */
    err = 0;
out:
    free(p.text);
    return err;
}

/* Reads the slot name in [s, s + len), trimmed of spaces. Returns the slot
 * or SLOT_TEXT with why filled. */
static enum slot slot_of(const char *s, size_t len, char *why, size_t whylen)
{
    char name[TEMPLATE_NAME_MAX + 1];
    const char *hint;
    size_t i;

    while (len > 0 && *s == ' ')
        s++, len--;
    while (len > 0 && s[len - 1] == ' ')
        len--;
    for (i = 0; i < sizeof(slot_names) / sizeof(slot_names[0]); i++)
        if (strlen(slot_names[i]) == len && memcmp(s, slot_names[i], len) == 0)
            return (enum slot)(i + 1);
    snprintf(name, sizeof(name), "%.*s", (int)len, s);
    hint = suggest_closest(name, slot_names,
                           sizeof(slot_names) / sizeof(slot_names[0]));
    snprintf(why, whylen,
             "unknown template name '%s'%s%s%s (known: last_user_message, "
             "model, count, turn, now)",
             name, hint ? "; did you mean '" : "", hint ? hint : "",
             hint ? "'?" : "");
    return SLOT_TEXT;
}

int template_compile(const char *text, struct template **out, char *why,
                     size_t whylen, size_t *at)
{
    int err = -1;
    struct template *t = calloc(1, sizeof(*t));
    const char *p = text, *open, *close;
    enum slot slot;

    snprintf(why, whylen, "out of memory");
    *at = 0;
    if (t == NULL)
        goto out;
    while ((open = strstr(p, "{{")) != NULL) {
        if (strncmp(open, "{{{{", 4) == 0) {
            if (add_part(t, SLOT_TEXT, p, (size_t)(open - p) + 2) != 0)
                goto out;
            p = open + 4;
            continue;
        }
        close = strstr(open + 2, "}}");
        *at = (size_t)(open - text);
        if (close == NULL) {
            snprintf(why, whylen,
                     "'{{' without its '}}' (write '{{{{' for a "
                     "literal '{{')");
            goto out;
        }
        slot = slot_of(open + 2, (size_t)(close - open - 2), why, whylen);
        if (slot == SLOT_TEXT)
            goto out;
        if (add_part(t, SLOT_TEXT, p, (size_t)(open - p)) != 0 ||
            add_part(t, slot, NULL, 0) != 0) {
            snprintf(why, whylen, "out of memory");
            goto out;
        }
        p = close + 2;
    }
    if (add_part(t, SLOT_TEXT, p, strlen(p)) != 0)
        goto out;
    *out = t;
    t = NULL;
    err = 0;
out:
    template_free(t);
    return err;
}

char *template_render(const struct template *t, const struct template_vars *v)
{
    struct buf b;
    char *text = NULL;
    size_t i;
    int rc = 0;

    buf_init(&b, TEMPLATE_MAX_BYTES);
    for (i = 0; rc == 0 && i < t->n; i++) {
        const struct part *p = &t->parts[i];

        switch (p->slot) {
        case SLOT_TEXT:
            rc = buf_append(&b, p->text, p->len);
            break;
        case SLOT_LAST_USER:
            rc = buf_appends(&b,
                             v->last_user_message ? v->last_user_message : "");
            break;
        case SLOT_MODEL:
            rc = buf_appends(&b, v->model ? v->model : "");
            break;
        case SLOT_COUNT:
            rc = buf_appendf(&b, "%" PRIu64, v->count);
            break;
        case SLOT_TURN:
            rc = buf_appendf(&b, "%" PRIu64, v->turn);
            break;
        case SLOT_NOW:
            rc = buf_appendf(&b, "%" PRId64, v->now);
            break;
        }
    }
    if (rc == 0)
        text = buf_take(&b, NULL);
    buf_cleanup(&b);
    return text;
}
