/* watch: inotify on the directories that hold the fixture files. */
#include "watch.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

/* The events that can change what a fixture file holds. */
#define WATCH_MASK                                                             \
    (IN_CLOSE_WRITE | IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_TO |        \
     IN_MOVED_FROM)

/* One --fixtures path: the watch on its directory, and the file name in
 * it (NULL: the path is the directory, and any *.yaml or *.yml counts). */
struct watch_path {
    int wd;
    char *name; /* owned */
};

struct watch {
    int fd;
    struct watch_path *paths; /* owned, npaths of them */
    size_t npaths;
};

/* True when name ends in .yaml or .yml. */
static bool is_yaml(const char *name)
{
    size_t len = strlen(name);

    return (len > 5 && strcmp(name + len - 5, ".yaml") == 0) ||
           (len > 4 && strcmp(name + len - 4, ".yml") == 0);
}

/* Adds the watch for path to w. Returns 0, or -1 with cause filled. */
static int add_path(struct watch *w, const char *path, char *cause,
                    size_t causelen)
{
    struct watch_path *wp = &w->paths[w->npaths];
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    struct stat st;
    int rc = -1;

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
            goto toolong;
    } else {
        if (slash == NULL)
            snprintf(dir, sizeof(dir), ".");
        else if (slash == path)
            snprintf(dir, sizeof(dir), "/");
        else if ((size_t)(slash - path) >= sizeof(dir))
            goto toolong;
        else
            snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
        wp->name = strdup(slash == NULL ? path : slash + 1);
        if (wp->name == NULL) {
            snprintf(cause, causelen, "out of memory");
            goto out;
        }
    }
    wp->wd = inotify_add_watch(w->fd, dir, WATCH_MASK);
    if (wp->wd < 0) {
        snprintf(cause, causelen, "cannot watch %s: %s", dir, strerror(errno));
        free(wp->name);
        wp->name = NULL;
        goto out;
    }
    w->npaths++;
    rc = 0;
    goto out;
toolong:
    snprintf(cause, causelen, "cannot watch %s: the path is too long", path);
out:
    return rc;
}

struct watch *watch_new(const char *const *paths, size_t n, char *cause,
                        size_t causelen)
{
    struct watch *w = calloc(1, sizeof(*w));
    size_t i;

    if (w != NULL) {
        w->fd = -1;
        w->paths = calloc(n + 1, sizeof(*w->paths));
    }
    if (w == NULL || w->paths == NULL) {
        snprintf(cause, causelen, "out of memory");
        goto fail;
    }
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0) {
        snprintf(cause, causelen, "inotify: %s", strerror(errno));
        goto fail;
    }
    for (i = 0; i < n; i++)
        if (add_path(w, paths[i], cause, causelen) != 0)
            goto fail;
    return w;
fail:
    watch_free(w);
    return NULL;
}

int watch_fd(const struct watch *w)
{
    return w->fd;
}

/* True when the event on wd about name concerns a fixture file. */
static bool concerns(const struct watch *w, int wd, const char *name)
{
    bool hit = false;
    size_t i;

    for (i = 0; !hit && i < w->npaths; i++)
        hit = w->paths[i].wd == wd &&
              (w->paths[i].name == NULL ? is_yaml(name)
                                        : strcmp(w->paths[i].name, name) == 0);
    return hit;
}

bool watch_drain(struct watch *w)
{
    /* Aligned as the events are, as inotify(7) asks. */
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool hit = false;
    ssize_t len;

    while ((len = read(w->fd, buf, sizeof(buf))) > 0) {
        ssize_t at = 0;

        while (at + (ssize_t)sizeof(struct inotify_event) <= len) {
            const struct inotify_event *ev =
                (const struct inotify_event *)(buf + at);

            if (ev->len > 0 && concerns(w, ev->wd, ev->name))
                hit = true;
            at += (ssize_t)sizeof(struct inotify_event) + ev->len;
        }
    }
    return hit;
}

void watch_free(struct watch *w)
{
    size_t i;

    if (w == NULL)
        return;
    for (i = 0; w->paths != NULL && i < w->npaths; i++)
        free(w->paths[i].name);
    if (w->fd >= 0)
        close(w->fd);
    free(w->paths);
    free(w);
}
