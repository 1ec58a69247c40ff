/* markup: writes report text escaped for XML (text or attribute) or HTML. */
#ifndef CONFORM_MARKUP_H
#define CONFORM_MARKUP_H

#include <stddef.h>
#include <stdio.h>

/* Where the text goes; the modes differ only in what they escape. */
enum markup_mode {
    MARKUP_XML_TEXT, /* quotes, tabs and LF as they are */
    MARKUP_XML_ATTR, /* quotes escaped; tab and LF as references */
    MARKUP_HTML      /* quotes escaped; tab and LF kept; C1 controls go */
};

/* Writes n bytes of s escaped for mode. Bad UTF-8 and the noncharacters
 * U+FFFE and U+FFFF become U+FFFD, and so do the C1 controls in HTML;
 * other controls show as their Unicode control pictures. On OOM only the
 * ASCII bytes are written, each other byte as '?'. */
void markup_putn(FILE *out, const char *s, size_t n, enum markup_mode mode);
/* Writes a C string (NULL as empty) like markup_putn. */
void markup_put(FILE *out, const char *s, enum markup_mode mode);

#endif
