/* slots: the connections the mock holds, counted in all and per client
 * address, each with its deadline (for the end of its headers, or of its
 * body), and what was refused or cut since the last report. The HTTP layer
 * (server.c) asks it before accepting a connection and at each step of a
 * request; it never touches a socket itself: cutting goes through the
 * caller's callback, and time comes in as an argument. Thread-safe: one
 * lock inside. */
#ifndef NEXUS_SLOTS_H
#define NEXUS_SLOTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* The shortest time between two reports (slots_report). */
#define SLOTS_REPORT_MS 10000u

struct slots;
struct slot;

struct slots_config {
    unsigned max_total;    /* connections held at once */
    unsigned max_per_addr; /* per client address (IPv4, or IPv6; an IPv4
                              address mapped into IPv6 counts as IPv4);
                              0: no cap */
    uint64_t header_ms;    /* from the accept, or the end of the previous
                              answer, to the end of the request's headers */
    uint64_t body_ms;      /* from the end of the headers to the end of the
                              body */
};

/* Where a connection is: each phase but SLOT_ANSWER has a deadline. */
enum slot_phase {
    SLOT_HEADERS, /* waiting for a request's line and headers */
    SLOT_BODY,    /* reading its body */
    SLOT_ANSWER,  /* answering, however long it takes */
};

/* What happened since the previous report. */
struct slots_news {
    uint64_t refused_total; /* at max_total */
    uint64_t refused_addr;  /* at max_per_addr */
    char last_refused[48];  /* the address of the last refusal, or "" */
    uint64_t cut_headers;   /* cut at the header deadline */
    uint64_t cut_body;      /* cut at the body deadline */
};

/* Returns new bookkeeping for cfg (copied), or NULL on OOM. */
struct slots *slots_new(const struct slots_config *cfg);
/* Frees sl, whose slots must all have been released; NULL is a no-op. */
void slots_free(struct slots *sl);
/* The cap per address for a server listening on listen with max_total
 * connections: none (0) on a loopback address, where every client is this
 * machine; otherwise a tenth of max_total (at least 1), so that no single
 * address can take every slot. */
unsigned slots_default_per_addr(const struct sockaddr *listen,
                                unsigned max_total);
/* Would a connection from addr be admitted now? When not, the refusal is
 * counted for the next report. */
bool slots_would_admit(struct slots *sl, const struct sockaddr *addr);
/* Admits the connection on descriptor fd from addr at now_ms, its header
 * deadline running: returns its slot (owned by sl; give it back with
 * slots_release), or NULL when it is over a cap (counted, as in
 * slots_would_admit) or memory ran out. */
struct slot *slots_admit(struct slots *sl, const struct sockaddr *addr, int fd,
                         uint64_t now_ms);
/* Moves s to phase ph at now_ms, its deadline (if ph has one) starting
 * over. */
void slots_enter(struct slots *sl, struct slot *s, enum slot_phase ph,
                 uint64_t now_ms);
/* Was s cut at its body deadline? */
bool slots_timed_out(struct slots *sl, const struct slot *s);
/* Gives s back (its connection is closed); NULL is a no-op. */
void slots_release(struct slots *sl, struct slot *s);
/* Cuts every connection whose deadline is past at now_ms: cut(fd, cls) is
 * called for each, with sl's lock held (the descriptor stays valid until
 * its slot is released), and the slot leaves its phase's queue. Returns the
 * time at which to call it again: the next deadline, or the time a report
 * falls due when news are waiting, and never later than now_ms plus the
 * shorter of header_ms and body_ms. A deadline set after this call is at
 * least that far away, so a caller that sleeps until the time returned
 * never misses one, and need not be woken when a slot enters a phase. */
uint64_t slots_expire(struct slots *sl, uint64_t now_ms,
                      void (*cut)(int fd, void *cls), void *cls);
/* Takes the news in *out and starts them over, if there are any and the
 * previous report is at least SLOTS_REPORT_MS old (the first is due at
 * once). Returns whether it did. */
bool slots_report(struct slots *sl, uint64_t now_ms, struct slots_news *out);

#endif
