/* routes: the route descriptors each endpoint file exports. */
#ifndef NEXUS_ROUTES_H
#define NEXUS_ROUTES_H

#include "router.h"

extern const struct route route_chat;                 /* chat.c */
extern const struct route route_models_list;          /* models.c */
extern const struct route route_models_get;           /* models.c */
extern const struct route route_balance;              /* balance.c */
extern const struct route route_admin_clock;          /* admin.c */
extern const struct route route_admin_health;         /* admin.c */
extern const struct route route_admin_state;          /* admin.c */
extern const struct route route_admin_reset;          /* admin.c */
extern const struct route route_admin_requests;       /* requests.c */
extern const struct route route_admin_requests_clear; /* requests.c */
extern const struct route route_admin_clients;        /* retries.c */

#endif
