/* capture: what the journal (journal.h) learns of each request, from the
 * router once the request is routed (its key, model, headers, body, the
 * rule or route that answered, and the answer's status) and from the
 * server once its answer has ended (the request's log line). An answer
 * sent over time has its source wrapped, to see when its headers and first
 * byte go out and how many bytes the socket took. Does nothing without a
 * journal (the mock keeps one only with --admin). */
#ifndef NEXUS_CAPTURE_H
#define NEXUS_CAPTURE_H

#include "app.h"
#include "log.h"
#include "router.h"

/* Opens req's journal entry with what rt (NULL: no route matched) and its
 * handler made of resp; a source in resp is wrapped (resp keeps owning
 * it). Requests under /_nexus/ are not journaled. Called by the router at
 * the end of router_dispatch. */
void capture_request(struct app *app, const struct request *req,
                     const struct route *rt, struct response *resp);
/* Records the request whose log line e is, now. Called by the server where
 * it writes that line. */
void capture_end(struct app *app, const struct log_entry *e);

#endif
