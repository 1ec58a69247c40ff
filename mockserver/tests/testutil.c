/* testutil: process and HTTP helpers for the nexus-mock process tests. */
#include "testutil.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "clock.h"

/* Reads one line from fd within timeout_ms into out. Returns 0 or -1. */
static int read_line(int fd, char *out, size_t outlen, int timeout_ms)
{
    size_t n = 0;

    while (n + 1 < outlen) {
        struct pollfd pfd = {fd, POLLIN, 0};
        char c;

        if (poll(&pfd, 1, timeout_ms) <= 0)
            return -1;
        if (read(fd, &c, 1) != 1)
            return -1;
        if (c == '\n')
            break;
        out[n++] = c;
    }
    out[n] = '\0';
    return 0;
}

int mock_start(struct mock_proc *p, const char *const *extra)
{
    return mock_start_logged(p, extra, NULL);
}

int mock_start_logged(struct mock_proc *p, const char *const *extra,
                      const char *log_path)
{
    const char *bin = getenv("NEXUS_MOCK_BIN");
    const char *argv[32];
    char line[120];
    const char *prefix = "nexus-mock listening on ";
    int fds[2];
    size_t n = 0, i;

    memset(p, 0, sizeof(*p));
    if (bin == NULL || pipe(fds) != 0)
        return -1;
    argv[n++] = bin;
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--host";
    argv[n++] = "127.0.0.1";
    if (log_path == NULL)
        argv[n++] = "--quiet";
    for (i = 0; extra != NULL && extra[i] != NULL && n < 31; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    p->pid = fork();
    if (p->pid < 0)
        return -1;
    if (p->pid == 0) {
        /* If the test dies (a failed assertion ends it early), the mock
         * dies with it instead of lingering. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        if (log_path != NULL) {
            int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

            if (fd >= 0) {
                dup2(fd, STDERR_FILENO);
                close(fd);
            }
        }
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    p->out_fd = fds[0];
    if (read_line(p->out_fd, line, sizeof(line), 10000) != 0 ||
        strncmp(line, prefix, strlen(prefix)) != 0) {
        mock_stop(p);
        return -1;
    }
    snprintf(p->url, sizeof(p->url), "%s", line + strlen(prefix));
    return 0;
}

int mock_stop(struct mock_proc *p)
{
    int status = 0, i;

    if (p->pid <= 0)
        return -1;
    kill(p->pid, SIGTERM);
    for (i = 0; i < 500; i++) {
        pid_t r = waitpid(p->pid, &status, WNOHANG);

        if (r == p->pid)
            break;
        usleep(10000);
    }
    if (i == 500) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, &status, 0);
        status = -1;
    } else {
        status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    if (p->out_fd > 0)
        close(p->out_fd);
    p->pid = 0;
    return status;
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

int http_do(const struct mock_proc *p, const char *method, const char *path,
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

/* Drains fd into a malloc'd string. */
static char *slurp(int fd)
{
    struct buf b;
    char chunk[4096];
    ssize_t n;

    buf_init(&b, (size_t)16 << 20);
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        if (buf_append(&b, chunk, (size_t)n) != 0)
            break;
    return buf_take(&b, NULL);
}

int run_capture(const char *const *argv, char **out, char **err)
{
    int ofd[2], efd[2], status;
    pid_t pid;

    if (pipe(ofd) != 0 || pipe(efd) != 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(ofd[1], STDOUT_FILENO);
        dup2(efd[1], STDERR_FILENO);
        close(ofd[0]);
        close(efd[0]);
        close(ofd[1]);
        close(efd[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(ofd[1]);
    close(efd[1]);
    /* Outputs here are small; reading one then the other cannot block. */
    *out = slurp(ofd[0]);
    *err = slurp(efd[0]);
    close(ofd[0]);
    close(efd[0]);
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
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
