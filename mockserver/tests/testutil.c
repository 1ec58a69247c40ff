/* testutil: starting nexus-mock (through common/testproc) and talking to
 * it over HTTP, for the nexus-mock process tests. */
#include "testutil.h"

#include "options.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "buf.h"
#include "clock.h"

int mock_start(struct testproc *p, const char *const *extra)
{
    return mock_start_logged(p, extra, NULL);
}

int mock_start_logged(struct testproc *p, const char *const *extra,
                      const char *log_path)
{
    const char *argv[32];
    size_t n = 0, i;

    argv[n++] = getenv("NEXUS_MOCK_BIN");
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--host";
    argv[n++] = "127.0.0.1";
    if (log_path == NULL)
        argv[n++] = "--quiet";
    for (i = 0; extra != NULL && extra[i] != NULL && n < 31; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    p->pid = 0;
    p->out_fd = -1;
    return argv[0] != NULL ? testproc_start(p, (char *const *)argv, log_path)
                           : -1;
}

/* libcurl write callback into a struct buf. */
static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct buf *b = ud;

    return buf_append(b, ptr, size * nmemb) == 0 ? size * nmemb : 0;
}

/* libcurl header callback: stores "name: value" lines, names lower-cased. */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct buf *b = ud;
    size_t n = size * nmemb, i;
    bool in_name = true;

    for (i = 0; i < n; i++) {
        char c = ptr[i];

        if (c == ':')
            in_name = false;
        if (in_name)
            c = (char)tolower((unsigned char)c);
        if (buf_append(b, &c, 1) != 0)
            return 0;
    }
    return n;
}

int http_do(const struct testproc *p, const char *method, const char *path,
            const char *key, const char *body, const char *extra_header,
            struct http_reply *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    struct buf bb, hb;
    char url[512], auth[512];
    CURLcode rc;
    int err = -1;

    memset(r, 0, sizeof(*r));
    buf_init(&bb, (size_t)64 << 20);
    buf_init(&hb, (size_t)1 << 20);
    if (c == NULL)
        goto out;
    snprintf(url, sizeof(url), "%s%s", p->url, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &bb);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hb);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    if (key != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
        hdrs = curl_slist_append(hdrs, auth);
    }
    if (extra_header != NULL)
        hdrs = curl_slist_append(hdrs, extra_header);
    if (body != NULL) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        goto out;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    r->body = buf_take(&bb, &r->body_len);
    r->headers = buf_take(&hb, &r->headers_len);
    r->json = json_loadb(r->body, r->body_len, 0, NULL);
    err = 0;
out:
    buf_cleanup(&bb);
    buf_cleanup(&hb);
    curl_slist_free_all(hdrs);
    if (c != NULL)
        curl_easy_cleanup(c);
    return err;
}

void http_reply_free(struct http_reply *r)
{
    free(r->headers);
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

char *http_header(const struct http_reply *r, const char *name)
{
    size_t n = strlen(name);
    const char *line = r->headers;

    while (line != NULL && *line != '\0') {
        const char *end = strstr(line, "\r\n");
        size_t len = end ? (size_t)(end - line) : strlen(line);

        if (len > n + 1 && strncmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;

            while (*v == ' ')
                v++;
            return strndup(v, len - (size_t)(v - line));
        }
        line = end ? end + 2 : NULL;
    }
    return NULL;
}

unsigned long http_header_num(const struct http_reply *r, const char *name)
{
    char *v = http_header(r, name);
    unsigned long n;

    assert_non_null(v);
    n = strtoul(v, NULL, 10);
    free(v);
    return n;
}

size_t stream_sink_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct stream_sink *s = ud;
    size_t n = size * nmemb, i;

    for (i = 0; i < n; i++) {
        if (ptr[i] == '\n' && s->last == '\n' && s->events++ == 0)
            s->first_event_ms = clock_real_ms() - s->start_ms;
        s->last = ptr[i];
        memmove(s->tail, s->tail + 1, sizeof(s->tail) - 2);
        s->tail[sizeof(s->tail) - 2] = ptr[i];
    }
    s->bytes += n;
    return n;
}

char *temp_fixture(const char *text)
{
    char *path = strdup("/tmp/nexus-mock-test-XXXXXX.yaml");
    size_t len = strlen(text);
    int fd;

    if (path == NULL)
        return NULL;
    fd = mkstemps(path, 5);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
        if (fd >= 0)
            close(fd);
        free(path);
        return NULL;
    }
    close(fd);
    return path;
}

int usd_pico_of(const char *body, const char *name, int64_t *out)
{
    char key[64];
    const char *p;
    int64_t whole = 0, frac = 0;
    int digits = 0;

    snprintf(key, sizeof(key), "\"%s\":", name);
    p = body != NULL ? strstr(body, key) : NULL;
    if (p == NULL)
        return -1;
    for (p += strlen(key); *p >= '0' && *p <= '9' && whole < INT64_MAX / 10;
         p++)
        whole = whole * 10 + (*p - '0');
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9' && digits < 12; p++, digits++)
            frac = frac * 10 + (*p - '0');
    if (*p != ',' && *p != '}')
        return -1;
    for (; digits < 12; digits++)
        frac *= 10;
    *out = whole * INT64_C(1000000000000) + frac;
    return 0;
}

int balance_pico(const struct testproc *p, const char *key, int64_t *balance,
                 int64_t *spent)
{
    struct http_reply r;
    int err = -1;

    if (http_do(p, "GET", "/v1/balance", key, NULL, NULL, &r) != 0)
        return -1;
    if (r.status == 200 && usd_pico_of(r.body, "balance", balance) == 0 &&
        usd_pico_of(r.body, "total_spent", spent) == 0)
        err = 0;
    http_reply_free(&r);
    return err;
}

/* Connects to p's port, from the address from (or any) with a receive
 * buffer of rcvbuf bytes (or the default: 0). */
static int raw_connect_with(const struct testproc *p, const char *from,
                            int rcvbuf)
{
    struct sockaddr_in sa;
    const char *host = strstr(p->url, "://"), *colon;
    char addr[64];
    size_t n;
    int fd;

    if (host == NULL || (colon = strrchr(host + 3, ':')) == NULL)
        return -1;
    host += 3;
    n = (size_t)(colon - host);
    if (n >= sizeof(addr))
        return -1;
    memcpy(addr, host, n);
    addr[n] = '\0';
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (rcvbuf > 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0)
        goto fail;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    if (from != NULL && (inet_pton(AF_INET, from, &sa.sin_addr) != 1 ||
                         bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0))
        goto fail;
    sa.sin_port = htons((uint16_t)strtoul(colon + 1, NULL, 10));
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        goto fail;
    return fd;
fail:
    close(fd);
    return -1;
}

int raw_connect(const struct testproc *p)
{
    return raw_connect_with(p, NULL, 0);
}

int raw_connect_from(const struct testproc *p, const char *from)
{
    return raw_connect_with(p, from, 0);
}

int raw_connect_rcvbuf(const struct testproc *p, int rcvbuf)
{
    return raw_connect_with(p, NULL, rcvbuf);
}

int raw_send(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int raw_read_end(int fd, int timeout_ms, struct raw_reading *r)
{
    uint64_t start = clock_real_ms();
    struct buf b;
    char chunk[16384];
    int err = -1;

    memset(r, 0, sizeof(*r));
    buf_init(&b, (size_t)1 << 20);
    r->err = ETIMEDOUT;
    for (;;) {
        struct pollfd pf = {fd, POLLIN, 0};
        int left = timeout_ms - (int)(clock_real_ms() - start);
        ssize_t n;

        if (left <= 0 || poll(&pf, 1, left) != 1)
            break;
        n = recv(fd, chunk, sizeof(chunk), 0);
        if (n > 0) {
            if (buf_append(&b, chunk, (size_t)n) != 0)
                goto out;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        r->err = n == 0 ? 0 : errno;
        break;
    }
    r->elapsed_ms = clock_real_ms() - start;
    r->data = buf_take(&b, &r->len);
    err = r->data != NULL ? 0 : -1;
out:
    buf_cleanup(&b);
    return err;
}

int raw_status(const struct raw_reading *r)
{
    if (r->data == NULL || r->len < 12 || strncmp(r->data, "HTTP/1.", 7) != 0)
        return 0;
    return (int)strtol(r->data + 9, NULL, 10);
}

const char *raw_body(const struct raw_reading *r)
{
    const char *p = r->data != NULL ? strstr(r->data, "\r\n\r\n") : NULL;

    return p != NULL ? p + 4 : NULL;
}

void raw_reset(int fd)
{
    struct linger lg = {1, 0};

    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}

json_t *log_find_request(const char *log_path, const char *id)
{
    FILE *f = fopen(log_path, "r");
    char line[4096];
    json_t *found = NULL;

    while (f != NULL && found == NULL && fgets(line, sizeof(line), f)) {
        json_t *o = json_loads(line, 0, NULL);
        const char *rid = json_string_value(json_object_get(o, "request_id"));

        if (rid != NULL && strcmp(rid, id) == 0 &&
            json_object_get(o, "status") != NULL)
            found = json_incref(o);
        json_decref(o);
    }
    if (f != NULL)
        fclose(f);
    return found;
}

int fixture_mock_start(struct fixture_mock *m, const char *yaml,
                       const char *const *extra)
{
    const char *args[16] = {"--fixtures"};
    size_t n = 2;
    int rc = -1;

    memset(m, 0, sizeof(*m));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    m->path = temp_fixture(yaml);
    if (m->path == NULL)
        goto out;
    args[1] = m->path;
    while (extra != NULL && *extra != NULL && n + 1 < 16)
        args[n++] = *extra++;
    args[n] = NULL;
    rc = mock_start(&m->proc, args);
out:
    if (rc != 0)
        curl_global_cleanup();
    if (rc != 0 && m->path != NULL) {
        unlink(m->path);
        free(m->path);
        m->path = NULL;
    }
    return rc;
}

int fixture_mock_stop(struct fixture_mock *m)
{
    int rc = testproc_stop(&m->proc);

    if (m->path != NULL)
        unlink(m->path);
    free(m->path);
    m->path = NULL;
    curl_global_cleanup();
    return rc == 0 ? 0 : -1;
}

/* Returns Node's major version, 0 when node is not installed, -1 when its
 * answer cannot be read. */
static long node_major(void)
{
    const char *argv[] = {"/usr/bin/env", "node", "--version", NULL};
    char *out = NULL, *err = NULL, *end;
    long major = -1;
    int rc = testproc_capture((char *const *)argv, 60, &out, &err);

    if (rc == 127)
        major = 0; /* env: node not found */
    else if (rc == 0 && out != NULL && out[0] == 'v') {
        major = strtol(out + 1, &end, 10);
        if (end == out + 1 || *end != '.')
            major = -1;
    }
    free(out);
    free(err);
    return major;
}

int drive_prepare(const char *who, char *path, size_t pathlen)
{
    const char *src = getenv("NEXUS_SOURCE_DIR");
    char probe[1100];
    long major = node_major();

    if (major == 0) {
        printf("%s: SKIPPED: node is not installed; the real-client tests "
               "need Node.js 20 or later\n",
               who);
        return 77;
    }
    if (major < 20) {
        fprintf(stderr,
                "%s: Node.js 20 or later is needed (node --version gave "
                "major %ld)\n",
                who, major);
        return 1;
    }
    if (src == NULL) {
        fprintf(stderr, "%s: NEXUS_SOURCE_DIR is not set\n", who);
        return 1;
    }
    snprintf(path, pathlen, "%s/tests/clients/drive.mjs", src);
    snprintf(probe, sizeof(probe),
             "%s/tests/clients/node_modules/openai/package.json", src);
    if (access(probe, R_OK) != 0) {
        fprintf(stderr,
                "%s: %s/tests/clients has no node_modules: run npm ci there "
                "(scripts/test does)\n",
                who, src);
        return 1;
    }
    return 0;
}

json_t *drive_run(const char *path, const char *const *args, double timeout_s)
{
    const char *argv[64];
    char *out = NULL, *err = NULL, *line, *next;
    json_t *results = json_array(), *r;
    json_error_t e;
    size_t n = 0, i;
    int rc;

    argv[n++] = "/usr/bin/env";
    argv[n++] = "node";
    argv[n++] = path;
    for (i = 0; args[i] != NULL && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    rc = testproc_capture((char *const *)argv, timeout_s, &out, &err);
    if (rc != 0) {
        fprintf(stderr, "drive.mjs exited %d:\n%s\n", rc, err ? err : "");
        json_decref(results);
        results = NULL;
    }
    for (line = out; results != NULL && line != NULL && *line != '\0';
         line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        r = json_loads(line, 0, &e);
        if (r == NULL || json_array_append_new(results, r) != 0) {
            fprintf(stderr, "drive.mjs printed what is not JSON (%s): %.200s\n",
                    e.text, line);
            json_decref(results);
            results = NULL;
        }
    }
    free(out);
    free(err);
    return results;
}

json_t *journal_wait(const struct testproc *p, const char *token,
                     const char *id)
{
    char path[256], auth[300];
    json_t *found = NULL;
    int i;

    snprintf(path, sizeof(path), "/_nexus/requests?request_id=%s", id);
    snprintf(auth, sizeof(auth), "X-Nexus-Admin-Token: %s", token ? token : "");
    for (i = 0; i < 500 && found == NULL; i++) {
        struct timespec ts = {0, 10 * 1000000L};
        struct http_reply r;

        if (http_do(p, "GET", path, NULL, NULL, token ? auth : NULL, &r) == 0 &&
            r.status == 200)
            found =
                json_incref(json_array_get(json_object_get(r.json, "data"), 0));
        http_reply_free(&r);
        if (found == NULL)
            nanosleep(&ts, NULL);
    }
    return found;
}

bool journal_agrees(const json_t *entry, const json_t *line, char *why,
                    size_t whylen)
{
    static const char *const same[] = {"request_id", "method",  "path",
                                       "status",     "outcome", "events"};
    const json_t *a, *b;
    size_t i;

    for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        a = json_object_get(entry, same[i]);
        b = json_object_get(line, same[i]);
        /* The log has no "events" for an answer that is not a stream;
         * the journal says null. */
        if (b == NULL && json_is_null(a))
            continue;
        if (a == NULL || b == NULL || !json_equal(a, b)) {
            snprintf(why, whylen, "%s differs", same[i]);
            return false;
        }
    }
    a = json_object_get(json_object_get(entry, "timing"), "total_ms");
    b = json_object_get(line, "duration_ms");
    if (!json_is_integer(a) || !json_is_number(b) ||
        (double)json_integer_value(a) != json_number_value(b)) {
        snprintf(why, whylen, "the duration differs");
        return false;
    }
    return true;
}

int proc_fd_count(pid_t pid)
{
    char path[64];
    struct dirent *e;
    DIR *d;
    int n = 0;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    d = opendir(path);
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

int file_lines_with(const char *path, const char *text)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int n = 0;

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strstr(line, text) != NULL)
            n++;
    fclose(f);
    return n;
}

struct server_config test_server_config(unsigned threads,
                                        unsigned max_connections)
{
    struct server_config cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.host = "127.0.0.1";
    cfg.threads = threads;
    cfg.max_connections = max_connections;
    cfg.header_timeout_s = OPTIONS_DEFAULT_HEADER_TIMEOUT;
    cfg.body_timeout_s = OPTIONS_DEFAULT_BODY_TIMEOUT;
    cfg.idle_timeout_s = OPTIONS_DEFAULT_IDLE_TIMEOUT;
    cfg.max_headers = OPTIONS_DEFAULT_MAX_HEADERS;
    return cfg;
}

int text_count(const char *hay, const char *needle)
{
    int n = 0;

    while ((hay = strstr(hay, needle)) != NULL) {
        n++;
        hay += strlen(needle);
    }
    return n;
}
