/* watch: notices changes to the fixture files with one inotify descriptor
 * (Linux), for the main thread to reload them. It watches the directory
 * of each --fixtures file (an editor that saves by renaming a new file
 * over the old one replaces the file's inode, which a watch on the file
 * itself would lose) and each --fixtures directory, and reports changes
 * to the named files and to a watched directory's *.yaml and *.yml. */
#ifndef NEXUS_WATCH_H
#define NEXUS_WATCH_H

#include <stdbool.h>
#include <stddef.h>

struct watch;

/* Returns a watch on the n paths (files or directories; copied), or NULL
 * with the reason in cause (out of memory, no inotify, a path that cannot
 * be watched). */
struct watch *watch_new(const char *const *paths, size_t n, char *cause,
                        size_t causelen);
/* The descriptor to poll for POLLIN. Owned by w. */
int watch_fd(const struct watch *w);
/* Reads every pending event without blocking. Returns true when one of
 * them concerns a fixture file. */
bool watch_drain(struct watch *w);
/* Closes the descriptor and frees w; NULL is a no-op. */
void watch_free(struct watch *w);

#endif
