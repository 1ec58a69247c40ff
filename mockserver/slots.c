/* slots: connection counts in all and per address, deadline queues, and
 * the news of what was refused or cut. */
#include "slots.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A client address as counted: IPv4 in 4 bytes, IPv6 in 16. */
struct addr_key {
    int family; /* AF_INET or AF_INET6 */
    unsigned char bytes[16];
};

/* The connections held from one address; in a bucket's list while n > 0. */
struct addr_count {
    struct addr_key key;
    unsigned n;
    struct addr_count *next;
};

struct slot {
    int fd;
    struct addr_count *addr; /* its address's count, or NULL */
    enum slot_phase phase;
    uint64_t deadline;        /* real ms, in SLOT_HEADERS and SLOT_BODY */
    bool queued;              /* in its phase's queue */
    bool timed_out;           /* cut at the body deadline */
    struct slot *prev, *next; /* in the queue */
};

/* The slots of one phase, in deadline order: every deadline of a phase is
 * the same time after the slot enters it, so entering at the tail keeps
 * the order, and the head is always due first. */
struct slot_queue {
    struct slot *head, *tail;
};

struct slots {
    pthread_mutex_t lock; /* guards everything below */
    struct slots_config cfg;
    unsigned total;
    struct addr_count **buckets; /* NULL when there is no cap per address */
    size_t nbuckets;             /* a power of two */
    struct slot_queue queue[2];  /* SLOT_HEADERS, SLOT_BODY */
    struct slots_news news;      /* since the last report */
    uint64_t last_report;        /* real ms */
    bool reported;               /* a report was taken */
};

/* Reads addr into key; false for an address that is not counted (not IP).
 * An IPv4 address mapped into IPv6 (a dual-stack socket) reads as IPv4. */
static bool addr_key_of(const struct sockaddr *addr, struct addr_key *key)
{
    memset(key, 0, sizeof(*key));
    if (addr == NULL)
        return false;
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;

        key->family = AF_INET;
        memcpy(key->bytes, &in->sin_addr, 4);
        return true;
    }
    if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;

        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            key->family = AF_INET;
            memcpy(key->bytes, in6->sin6_addr.s6_addr + 12, 4);
        } else {
            key->family = AF_INET6;
            memcpy(key->bytes, in6->sin6_addr.s6_addr, 16);
        }
        return true;
    }
    return false;
}

/* FNV-1a over the key's bytes, reduced to a bucket. */
static size_t addr_bucket(const struct slots *sl, const struct addr_key *key)
{
    uint64_t h = UINT64_C(14695981039346656037);
    size_t i;

    for (i = 0; i < sizeof(key->bytes); i++)
        h = (h ^ key->bytes[i]) * UINT64_C(1099511628211);
    h ^= (uint64_t)key->family;
    return (size_t)(h & (sl->nbuckets - 1));
}

/* The count for key, or NULL when no connection from it is held. */
static struct addr_count *addr_find(const struct slots *sl,
                                    const struct addr_key *key)
{
    struct addr_count *c = sl->buckets[addr_bucket(sl, key)];

    while (c != NULL && memcmp(&c->key, key, sizeof(*key)) != 0)
        c = c->next;
    return c;
}

/* Writes key as text (for the report). */
static void addr_text(const struct addr_key *key, char *out, size_t outlen)
{
    if (inet_ntop(key->family, key->bytes, out, (socklen_t)outlen) == NULL)
        snprintf(out, outlen, "?");
}

/* Is a connection from addr within the caps? Counts the refusal when not.
 * Called with the lock held; *key gets addr's key, *counted whether it is
 * counted per address. */
static bool admissible(struct slots *sl, const struct sockaddr *addr,
                       struct addr_key *key, bool *counted)
{
    struct addr_count *c;

    *counted = sl->buckets != NULL && addr_key_of(addr, key);
    if (sl->total >= sl->cfg.max_total) {
        sl->news.refused_total++;
        goto refused;
    }
    if (!*counted)
        return true;
    c = addr_find(sl, key);
    if (c == NULL || c->n < sl->cfg.max_per_addr)
        return true;
    sl->news.refused_addr++;
refused:
    if (addr_key_of(addr, key))
        addr_text(key, sl->news.last_refused, sizeof(sl->news.last_refused));
    return false;
}

/* Takes s out of its queue, if it is in one. */
static void queue_remove(struct slots *sl, struct slot *s)
{
    struct slot_queue *q;

    if (!s->queued)
        return;
    q = &sl->queue[s->phase == SLOT_BODY];
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        q->head = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    else
        q->tail = s->prev;
    s->prev = s->next = NULL;
    s->queued = false;
}

/* The earliest deadline of all, or UINT64_MAX. */
static uint64_t first_deadline(const struct slots *sl)
{
    uint64_t first = UINT64_MAX;
    size_t i;

    for (i = 0; i < 2; i++)
        if (sl->queue[i].head != NULL && sl->queue[i].head->deadline < first)
            first = sl->queue[i].head->deadline;
    return first;
}

/* Puts s in phase ph from now_ms, at the tail of its queue. */
static void enter(struct slots *sl, struct slot *s, enum slot_phase ph,
                  uint64_t now_ms)
{
    struct slot_queue *q;

    queue_remove(sl, s);
    s->phase = ph;
    if (ph == SLOT_ANSWER)
        return;
    s->deadline =
        now_ms + (ph == SLOT_HEADERS ? sl->cfg.header_ms : sl->cfg.body_ms);
    q = &sl->queue[ph == SLOT_BODY];
    s->prev = q->tail;
    s->next = NULL;
    if (q->tail != NULL)
        q->tail->next = s;
    else
        q->head = s;
    q->tail = s;
    s->queued = true;
}

struct slots *slots_new(const struct slots_config *cfg)
{
    struct slots *sl = calloc(1, sizeof(*sl));

    if (sl == NULL)
        return NULL;
    sl->cfg = *cfg;
    if (cfg->max_per_addr > 0) {
        /* About one address per four connections at the cap in all. */
        sl->nbuckets = 64;
        while (sl->nbuckets < cfg->max_total / 4 && sl->nbuckets < 65536)
            sl->nbuckets *= 2;
        sl->buckets = calloc(sl->nbuckets, sizeof(*sl->buckets));
        if (sl->buckets == NULL) {
            free(sl);
            return NULL;
        }
    }
    pthread_mutex_init(&sl->lock, NULL);
    return sl;
}

void slots_free(struct slots *sl)
{
    size_t i;

    if (sl == NULL)
        return;
    for (i = 0; i < sl->nbuckets; i++)
        while (sl->buckets[i] != NULL) {
            struct addr_count *c = sl->buckets[i];

            sl->buckets[i] = c->next;
            free(c);
        }
    free(sl->buckets);
    pthread_mutex_destroy(&sl->lock);
    free(sl);
}

unsigned slots_default_per_addr(const struct sockaddr *listen,
                                unsigned max_total)
{
    struct addr_key key;

    if (addr_key_of(listen, &key) &&
        ((key.family == AF_INET && key.bytes[0] == 127) ||
         (key.family == AF_INET6 &&
          memcmp(key.bytes, &in6addr_loopback, 16) == 0)))
        return 0;
    return max_total >= 10 ? max_total / 10 : 1;
}

bool slots_would_admit(struct slots *sl, const struct sockaddr *addr)
{
    struct addr_key key;
    bool counted, ok;

    pthread_mutex_lock(&sl->lock);
    ok = admissible(sl, addr, &key, &counted);
    pthread_mutex_unlock(&sl->lock);
    return ok;
}

struct slot *slots_admit(struct slots *sl, const struct sockaddr *addr, int fd,
                         uint64_t now_ms)
{
    struct slot *s = calloc(1, sizeof(*s));
    struct addr_count *c = NULL;
    struct addr_key key;
    bool counted;

    pthread_mutex_lock(&sl->lock);
    if (s == NULL || !admissible(sl, addr, &key, &counted))
        goto fail;
    if (counted && (c = addr_find(sl, &key)) == NULL) {
        size_t b = addr_bucket(sl, &key);

        c = calloc(1, sizeof(*c));
        if (c == NULL)
            goto fail;
        c->key = key;
        c->next = sl->buckets[b];
        sl->buckets[b] = c;
    }
    if (c != NULL)
        c->n++;
    s->addr = c;
    s->fd = fd;
    sl->total++;
    enter(sl, s, SLOT_HEADERS, now_ms);
    pthread_mutex_unlock(&sl->lock);
    return s;
fail:
    pthread_mutex_unlock(&sl->lock);
    free(s);
    return NULL;
}

void slots_enter(struct slots *sl, struct slot *s, enum slot_phase ph,
                 uint64_t now_ms)
{
    pthread_mutex_lock(&sl->lock);
    enter(sl, s, ph, now_ms);
    pthread_mutex_unlock(&sl->lock);
}

bool slots_timed_out(struct slots *sl, const struct slot *s)
{
    bool t;

    pthread_mutex_lock(&sl->lock);
    t = s->timed_out;
    pthread_mutex_unlock(&sl->lock);
    return t;
}

void slots_release(struct slots *sl, struct slot *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&sl->lock);
    queue_remove(sl, s);
    sl->total--;
    if (s->addr != NULL && --s->addr->n == 0) {
        struct addr_count **p = &sl->buckets[addr_bucket(sl, &s->addr->key)];

        while (*p != s->addr)
            p = &(*p)->next;
        *p = s->addr->next;
        free(s->addr);
    }
    pthread_mutex_unlock(&sl->lock);
    free(s);
}

/* Are there news that no report has taken yet? */
static bool news_waiting(const struct slots_news *n)
{
    return n->refused_total + n->refused_addr + n->cut_headers + n->cut_body >
           0;
}

uint64_t slots_expire(struct slots *sl, uint64_t now_ms,
                      void (*cut)(int fd, void *cls), void *cls)
{
    uint64_t next, shorter;
    size_t i;

    shorter = sl->cfg.header_ms < sl->cfg.body_ms ? sl->cfg.header_ms
                                                  : sl->cfg.body_ms;
    pthread_mutex_lock(&sl->lock);
    for (i = 0; i < 2; i++) {
        struct slot *s;

        while ((s = sl->queue[i].head) != NULL && s->deadline <= now_ms) {
            queue_remove(sl, s);
            if (i == 0)
                sl->news.cut_headers++;
            else
                sl->news.cut_body++;
            s->timed_out = i == 1;
            if (s->fd >= 0)
                cut(s->fd, cls);
        }
    }
    next = first_deadline(sl);
    if (next > now_ms + shorter)
        next = now_ms + shorter;
    if (news_waiting(&sl->news)) {
        uint64_t due = sl->reported ? sl->last_report + SLOTS_REPORT_MS : 0;

        if (due < next)
            next = due;
    }
    pthread_mutex_unlock(&sl->lock);
    return next;
}

bool slots_report(struct slots *sl, uint64_t now_ms, struct slots_news *out)
{
    bool due;

    pthread_mutex_lock(&sl->lock);
    due = news_waiting(&sl->news) &&
          (!sl->reported || now_ms >= sl->last_report + SLOTS_REPORT_MS);
    if (due) {
        *out = sl->news;
        memset(&sl->news, 0, sizeof(sl->news));
        sl->last_report = now_ms;
        sl->reported = true;
    }
    pthread_mutex_unlock(&sl->lock);
    return due;
}
