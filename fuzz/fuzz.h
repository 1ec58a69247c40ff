/* fuzz: what every fuzz target shares: libFuzzer's entry point, which the
 * fuzz build drives with libFuzzer and the replay executable (replay.c)
 * with fixed inputs, and the oracle that turns a broken promise into a
 * crash libFuzzer records. */
#ifndef NEXUS_FUZZ_H
#define NEXUS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Runs one input through the target. Returns 0 (libFuzzer's contract);
 * a defect aborts. Defined once per target. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with "fuzz: <what>" on stderr unless ok: the input made the code
 * break one of its promises (a status, a shape, an invariant). */
void fuzz_require(bool ok, const char *what);

#endif
