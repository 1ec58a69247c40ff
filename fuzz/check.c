/* check: the fuzz targets' oracle, shared so each reports the same way. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>

void fuzz_require(bool ok, const char *what)
{
    if (ok)
        return;
    fprintf(stderr, "fuzz: %s\n", what);
    abort();
}
