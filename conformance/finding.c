/* finding: how grave one thing a check found is, and the gravest of
 * several, kept with its words and impact. */
#include "finding.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Prepares an empty record. */
void finding_init(struct finding_worst *w, size_t no_focus)
{
    w->kind = FINDING_NONE;
    w->n_impacts = 0;
    w->focus = no_focus;
    w->why[0] = '\0';
}

/* Keeps this finding when it is graver than the one w holds. */
bool finding_note(struct finding_worst *w, enum finding kind,
                  enum impact_id impact, size_t focus, const char *fmt, ...)
{
    bool kept = false;
    va_list ap;

    if (kind <= w->kind)
        goto out;
    w->kind = kind;
    w->n_impacts = 0;
    if (impact != IMPACT_NONE)
        w->impacts[w->n_impacts++] = impact;
    w->focus = focus;
    va_start(ap, fmt);
    if (vsnprintf(w->why, sizeof(w->why), fmt, ap) < 0)
        w->why[0] = '\0';
    va_end(ap);
    kept = true;
out:
    return kept;
}

/* Adds a finding to those w holds. */
void finding_also(struct finding_worst *w, enum finding kind,
                  enum impact_id impact, size_t focus, const char *fmt, ...)
{
    size_t len = strlen(w->why);
    va_list ap;

    if (w->kind == FINDING_NONE)
        w->focus = focus;
    if (kind > w->kind)
        w->kind = kind;
    if (impact != IMPACT_NONE && w->n_impacts < FINDING_MAX_IMPACTS)
        w->impacts[w->n_impacts++] = impact;
    if (len > 0 && len + 2 < sizeof(w->why)) {
        memcpy(w->why + len, "; ", 3);
        len += 2;
    }
    va_start(ap, fmt);
    if (len < sizeof(w->why) &&
        vsnprintf(w->why + len, sizeof(w->why) - len, fmt, ap) < 0)
        w->why[len] = '\0';
    va_end(ap);
}
