/* replay: a fuzz target without libFuzzer: runs its entry point once on
 * each file named, or on every file of each directory named (in name
 * order), so the plain and sanitizer builds replay the seed corpora and
 * every input that ever broke the code.
 *
 *   replay_TARGET [-t SECONDS] [-m MIB] FILE|DIR...
 *
 * As under libFuzzer, unbounded work fails: an input that runs longer than
 * -t seconds (default 10) is ended by SIGALRM, and a peak resident size
 * above -m MiB (default 2048) after any input fails the run. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

/* No input in the repository is larger; a larger file is refused. */
#define REPLAY_MAX_BYTES (16u * 1024 * 1024)
#define REPLAY_TIMEOUT_S 10
#define REPLAY_RSS_MB 2048

/* The limits every input runs under. */
struct limits {
    unsigned seconds;
    long rss_mb;
};

/* Reads the whole file into a new buffer (free()). Returns 0, or -1 with a
 * message on stderr. */
static int read_file(const char *path, unsigned char **out, size_t *len)
{
    int err = -1;
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    struct stat st;
    size_t n;

    if (f == NULL || fstat(fileno(f), &st) != 0 || st.st_size < 0 ||
        (unsigned long long)st.st_size > REPLAY_MAX_BYTES) {
        fprintf(stderr, "replay: %s: cannot read (or too large)\n", path);
        goto out;
    }
    n = (size_t)st.st_size;
    data = malloc(n ? n : 1);
    if (data == NULL || fread(data, 1, n, f) != n) {
        fprintf(stderr, "replay: %s: read failed\n", path);
        goto out;
    }
    *out = data;
    *len = n;
    data = NULL;
    err = 0;
out:
    free(data);
    if (f != NULL)
        fclose(f);
    return err;
}

/* Runs the target on one file within the limits. Returns 0 or -1. */
static int replay_file(const char *path, const struct limits *lim)
{
    unsigned char *data = NULL;
    size_t len = 0;
    struct rusage ru;
    int err = -1;

    if (read_file(path, &data, &len) != 0)
        goto out;
    /* Said before the run, so a crash or a timeout names its input. */
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    alarm(lim->seconds);
    LLVMFuzzerTestOneInput(data, len);
    alarm(0);
    /* ru_maxrss is in KiB on Linux. */
    if (getrusage(RUSAGE_SELF, &ru) == 0 && ru.ru_maxrss / 1024 > lim->rss_mb) {
        fprintf(stderr, "replay: %s: peak RSS %ld MiB passes %ld MiB\n", path,
                ru.ru_maxrss / 1024, lim->rss_mb);
        goto out;
    }
    err = 0;
out:
    free(data);
    return err;
}

/* Runs the target on every regular file of dir, by name. Returns the
 * count run, or -1. */
static long replay_dir(const char *dir, const struct limits *lim)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort), i;
    long count = 0;
    char path[4096];
    struct stat st;

    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (i = 0; i < n; i++) {
        int w = snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);

        if (count >= 0 && w > 0 && (size_t)w < sizeof(path) &&
            names[i]->d_name[0] != '.' && stat(path, &st) == 0 &&
            S_ISREG(st.st_mode))
            count = replay_file(path, lim) == 0 ? count + 1 : -1;
        free(names[i]);
    }
    free(names);
    return count;
}

/* Reads a positive number option's value. Returns 0 or -1. */
static int option_value(const char *s, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    struct limits lim = {REPLAY_TIMEOUT_S, REPLAY_RSS_MB};
    long total = 0, n, v;
    struct stat st;
    int i = 1;

    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "-t") == 0 &&
            option_value(argv[i + 1], 86400, &v) == 0)
            lim.seconds = (unsigned)v;
        else if (strcmp(argv[i], "-m") == 0 &&
                 option_value(argv[i + 1], 1L << 20, &v) == 0)
            lim.rss_mb = v;
        else
            break;
    }
    if (i >= argc || argv[i][0] == '-') {
        fprintf(stderr, "usage: %s [-t SECONDS] [-m MIB] FILE|DIR...\n",
                argv[0]);
        return 2;
    }
    for (; i < argc; i++) {
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        n = S_ISDIR(st.st_mode)               ? replay_dir(argv[i], &lim)
            : replay_file(argv[i], &lim) == 0 ? 1
                                              : -1;
        if (n < 0)
            return 1;
        total += n;
    }
    /* A replay that ran nothing proves nothing. */
    if (total == 0) {
        fprintf(stderr, "replay: no input found\n");
        return 1;
    }
    printf("replay: %ld inputs, no failure\n", total);
    return 0;
}
