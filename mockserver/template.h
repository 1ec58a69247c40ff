/* template: the text of a scripted reply that echoes the request. A
 * template is text with {{ name }} slots, compiled once when the fixture
 * loads and rendered per request; it reads only the values handed to it
 * (no files, no commands, no environment). */
#ifndef NEXUS_TEMPLATE_H
#define NEXUS_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

/* What a template may say. A plain data carrier; strings borrowed. */
struct template_vars {
    const char *last_user_message; /* NULL renders as "" */
    const char *model;
    uint64_t count; /* how many requests the rule answered, this one too */
    uint64_t turn;  /* user messages in the conversation */
    int64_t now;    /* the mock's clock, Unix seconds (what a generated
                       reply's created says) */
};

/* A compiled template; opaque, read-only once compiled (thread-safe). */
struct template;

/* Compiles text: {{ name }} (spaces inside the braces optional) is a slot
 * for one of last_user_message, model, count, turn, now; "{{{{" is a literal
 * "{{". Returns 0 and a new template in *out, or -1 with a one-line reason
 * in why (an unknown name, with the closest known one; an unclosed slot)
 * and the byte offset of the problem in *at. */
int template_compile(const char *text, struct template **out, char *why,
                     size_t whylen, size_t *at);
/* Frees t; NULL is a no-op. */
void template_free(struct template *t);
/* Returns the text t renders for v, a new string (free()), or NULL on
 * OOM. */
char *template_render(const struct template *t, const struct template_vars *v);

#endif
