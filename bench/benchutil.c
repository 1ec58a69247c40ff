/* benchutil: the clock, target address, request text and /proc readings
 * that the bench tools share. */
#include "benchutil.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "options.h"

uint64_t bench_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int bench_target_parse(const char *url, struct bench_target *t)
{
    static const char scheme[] = "http://";
    char host[INET_ADDRSTRLEN], port[8];
    const char *h, *colon, *end;
    unsigned long long p;
    int err = -1;

    memset(t, 0, sizeof(*t));
    if (strncmp(url, scheme, sizeof(scheme) - 1) != 0)
        goto out;
    h = url + sizeof(scheme) - 1;
    colon = strchr(h, ':');
    if (colon == NULL || (size_t)(colon - h) >= sizeof(host))
        goto out;
    end = colon + 1 + strcspn(colon + 1, "/");
    if ((size_t)(end - colon - 1) >= sizeof(port))
        goto out;
    memcpy(host, h, (size_t)(colon - h));
    host[colon - h] = '\0';
    memcpy(port, colon + 1, (size_t)(end - colon - 1));
    port[end - colon - 1] = '\0';
    if (options_parse_uint(port, 1, 65535, &p) != 0)
        goto out;
    t->addr.sin_family = AF_INET;
    t->addr.sin_port = htons((uint16_t)p);
    if (inet_pton(AF_INET, host, &t->addr.sin_addr) != 1)
        goto out;
    snprintf(t->hostport, sizeof(t->hostport), "%s:%s", host, port);
    err = 0;
out:
    return err;
}

char *bench_request_new(const struct bench_target *t, const char *method,
                        const char *path, const char *key, const char *body,
                        bool close, size_t *len)
{
    size_t blen = body ? strlen(body) : 0;
    size_t cap = strlen(method) + strlen(path) + strlen(key) + blen + 256;
    char *text = malloc(cap);
    int n;

    if (text == NULL)
        return NULL;
    if (body != NULL)
        n = snprintf(text, cap,
                     "%s %s HTTP/1.1\r\nHost: %s\r\n"
                     "Authorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: %zu\r\n%s\r\n%s",
                     method, path, t->hostport, key, blen,
                     close ? "Connection: close\r\n" : "", body);
    else
        n = snprintf(text, cap,
                     "%s %s HTTP/1.1\r\nHost: %s\r\n"
                     "Authorization: Bearer %s\r\n%s\r\n",
                     method, path, t->hostport, key,
                     close ? "Connection: close\r\n" : "");
    if (n < 0 || (size_t)n >= cap) {
        free(text);
        return NULL;
    }
    *len = (size_t)n;
    return text;
}

char *bench_chat_body(const char *model, bool stream, unsigned max_tokens)
{
    json_t *o = json_pack("{s:s, s:[{s:s, s:s}]}", "model", model, "messages",
                          "role", "user", "content", "Hello!");
    char *text = NULL;

    if (o == NULL)
        goto out;
    if (stream && json_object_set_new(o, "stream", json_true()) != 0)
        goto out;
    if (max_tokens > 0 &&
        json_object_set_new(o, "max_tokens", json_integer(max_tokens)) != 0)
        goto out;
    text = json_dumps(o, JSON_COMPACT);
out:
    json_decref(o);
    return text;
}

/* Reads the "Name:   123 kB" line of /proc/PID/status into *kb. */
static void status_field(const char *status, const char *name,
                         unsigned long long *kb)
{
    const char *p = strstr(status, name);

    if (p != NULL)
        *kb = strtoull(p + strlen(name), NULL, 10);
}

/* Reads a small /proc file into text (NUL-terminated). Returns 0 or -1. */
static int read_proc(pid_t pid, const char *name, char *text, size_t cap)
{
    char path[64];
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, name);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    n = fread(text, 1, cap - 1, f);
    fclose(f);
    text[n] = '\0';
    return 0;
}

int bench_proc_read(pid_t pid, struct bench_proc *p)
{
    char text[4096], *close_paren;
    unsigned long long utime = 0, stime = 0;
    int err = -1;

    memset(p, 0, sizeof(*p));
    if (read_proc(pid, "status", text, sizeof(text)) != 0)
        goto out;
    status_field(text, "VmHWM:", &p->hwm_kb);
    status_field(text, "VmRSS:", &p->rss_kb);
    if (read_proc(pid, "stat", text, sizeof(text)) != 0)
        goto out;
    /* The command name may hold spaces; fields count from after its ')'.
     * utime and stime are fields 14 and 15, the 12th and 13th after it. */
    if ((close_paren = strrchr(text, ')')) == NULL ||
        sscanf(close_paren + 2,
               "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
               &stime) != 2)
        goto out;
    p->cpu_s = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
    err = 0;
out:
    return err;
}

unsigned long long bench_raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    return (unsigned long long)rl.rlim_cur;
}
