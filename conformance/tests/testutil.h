/* testutil: what the conformance tests share: running the engine on a
 * script without a socket and reading nexus-conform's JSON report (server
 * processes are started and stopped with common/testproc). */
#ifndef CONFORM_TESTUTIL_H
#define CONFORM_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "buf.h"
#include "result.h"
#include "script.h"
#include "testproc.h"

/* The arguments every scripted run gets (keys of tests/scripts/good.json). */
#define TU_KEY "sk-test"

/* Returns the environment variable, failing the test when unset. */
const char *tu_env(const char *name);
/* Returns NEXUS_SOURCE_DIR/conformance/tests/rel in buf. */
const char *tu_data(const char *rel, char *buf, size_t n);
/* Loads a JSON file, failing the test when it cannot. New reference. */
json_t *tu_load(const char *path);
/* Lists the cases of tests/sub/ (the .json files: "breaks", the break
 * cases; "dialects", the legal dialects of real servers) in name order:
 * their directory goes into dir, their names into names (each a new string
 * for the caller to free()). Fails the test when the directory cannot be
 * read or holds more than max cases. Returns how many there are. */
size_t tu_cases(const char *sub, char *dir, size_t dir_n, char **names,
                size_t max);
/* tu_cases("breaks", ...). */
size_t tu_break_cases(char *dir, size_t dir_n, char **names, size_t max);
/* Returns a script whose routes are override's routes, then base's; the
 * other members come from base. New reference. */
json_t *tu_compose(const json_t *base, const json_t *override);
/* The arguments every case runs with: every group enabled, with the keys
 * of tests/scripts/good.json. NULL-terminated, static. */
extern const char *const tu_suite_args[];
/* Fills args (room for max entries) with tu_suite_args, then the case's
 * own "args" (brk may be NULL), then extra when not NULL, then the NULL
 * that ends them; what does not fit is left out. Returns args. */
const char **tu_case_args(const json_t *brk, const char *extra,
                          const char **args, size_t max);
/* Appends the strings of a JSON list to out, joined with commas. */
void tu_join(const json_t *list, struct buf *out);

/* Runs the engine in-process over the fake transport playing script with
 * extra arguments (NULL-terminated), bodies delivered in pieces of piece
 * bytes. Fills results (initialised here). Returns conform_run's value. */
int tu_conform(const json_t *script, const char *const *extra, size_t piece,
               struct results *results);
/* The status of check id in results, or -1 when absent. */
int tu_status(const struct results *r, const char *id);
/* Writes "id=status ..." of every non-passing result into buf. */
const char *tu_describe(const struct results *r, char *buf, size_t n);

/* How many runs tu_jobs_run makes at once: the machine's two cores
 * spend most of a run waiting on the other process. */
#define TU_PARALLEL 4

/* One run of the real nexus-conform against a real nexus-mock serving
 * fixture files: what to run (set by the caller) and what it left (set by
 * tu_jobs_run). A plain data carrier. */
struct tu_job {
    char fixtures[2][1024]; /* the --fixtures paths, in order; "": none */
    const char *args[64];   /* nexus-conform's arguments after --base-url,
                               --api-key sk-test and --json; borrowed,
                               NULL-terminated */
    char report[128];       /* the JSON report (may not exist) */
    char log[128];          /* nexus-conform's output */
    int rc;                 /* nexus-conform's exit status, or -1 */
    int mock_rc;            /* the mock's exit status after SIGTERM: 0 */
    double took;            /* nexus-conform's wall time, seconds */
};

/* Sets job's fixtures to fixtures/faults/servers/rel (and rel2 after it
 * when not NULL) under NEXUS_SOURCE_DIR. */
void tu_job_fixtures(struct tu_job *job, const char *rel, const char *rel2);
/* Runs every job, TU_PARALLEL at once, each against its own nexus-mock
 * (--port 0 on 127.0.0.1, stopped by SIGTERM when its run ends), with the
 * reports and logs in dir (a directory the caller made and removes). */
void tu_jobs_run(struct tu_job *jobs, size_t n, const char *dir);
/* Loads a job's JSON report; NULL (and says why) when it wrote none. */
json_t *tu_job_report(const struct tu_job *job);

/* Makes a fresh directory under /tmp; writes its path into buf. */
const char *tu_tmpdir(char *buf, size_t n);
/* The check called id in a JSON report, or NULL. Borrowed from report. */
json_t *tu_report_check(const json_t *report, const char *id);
/* The status string of check id in a JSON report, or NULL. */
const char *tu_report_status(const json_t *report, const char *id);

/* Parses the page at path with libxml2's HTML parser (xmllint --html) and
 * with its XML parser (the page is also well-formed XML), and returns how
 * many errors they report, printing each. The HTML parser knows HTML 4
 * only, so "Tag main invalid" and the like, about HTML5 elements, are not
 * counted. Fails the test when xmllint is missing. */
int tu_html_errors(const char *path);

#endif
