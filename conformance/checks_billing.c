/* checks_billing: the billing group (AI Nexus profile): GET /balance,
 * what a billed request does to it, and 402 for an empty balance. */
#include "checks_billing.h"

#include <math.h>
#include <string.h>

#include "decimal.h"
#include "evidence.h"
#include "exchange.h"
#include "parse.h"
#include "shape.h"

/* Two amounts agree when they differ by at most a billionth of the larger
 * one: prices go far below a nano-dollar (0.000001 per million tokens
 * charges 3e-11 for 30 tokens), so no absolute step can tell a small
 * charge from a wrong one. */
#define RELATIVE_TOLERANCE 1e-9
/* What a printed amount can show, relative to its size. A double printed
 * in JSON carries 15 to 17 significant digits; with 15 the last one is
 * worth at most 1e-14 of the amount (the 1e-15 of a double's precision,
 * times ten for safety). A change smaller than that may not show at all:
 * 8999999 - 3e-11 prints as 8999999. ABSOLUTE_FLOOR keeps it above zero. */
#define PRINT_RESOLUTION 1e-14
#define ABSOLUTE_FLOOR 1e-15

enum { SHAPE, CHARGE, LAST_UPDATED, INSUFFICIENT, INSUFFICIENT_CODE };

static const struct check_def checks[] = {
    [SHAPE] = {"billing.balance-shape", LEVEL_MUST, BASIS_CONTRACT,
               "GET /balance MUST answer 200 with {\"balance\": number, "
               "\"currency\": string, \"total_spent\": number, "
               "\"last_updated\": ISO-8601 UTC}",
               "docs/api.md#balance", IMPACT_BILLING_SHAPE},
    [CHARGE] = {"billing.charge", LEVEL_MUST, BASIS_CONTRACT,
                "After a billed request the balance MUST fall and "
                "total_spent rise, by the same amount",
                "docs/api.md#balance; docs/api.md#billing",
                IMPACT_BILLING_CHARGE},
    [LAST_UPDATED] = {"billing.last-updated", LEVEL_MUST, BASIS_CONTRACT,
                      "last_updated MUST NOT go back in time",
                      "docs/api.md#balance", IMPACT_BILLING_SHAPE},
    [INSUFFICIENT] = {"billing.insufficient", LEVEL_MUST, BASIS_CONTRACT,
                      "A chat completion with a key whose balance is empty "
                      "MUST be refused with 402, and SHOULD carry the error "
                      "body",
                      "docs/api.md#billing; docs/api.md#error-statuses",
                      IMPACT_BILLING_SERVED},
    [INSUFFICIENT_CODE] = {"billing.insufficient-code", LEVEL_SHOULD,
                           BASIS_CLIENT,
                           "The 402 SHOULD have type or code "
                           "\"insufficient_quota\"",
                           "docs/api.md#the-error-body", IMPACT_NONE},
};

/* What one GET /balance said. */
struct balance {
    double balance, spent, updated;
    bool ok;
    char why[256];
};

/* Reads and judges one GET /balance answer. */
static void read_balance(struct conform *c, const struct exchange *x,
                         struct balance *b)
{
    const json_t *v;

    b->ok = false;
    if (!exchange_status_is(x, 200)) {
        snprintf(b->why, sizeof(b->why), "GET /balance got %s",
                 conform_describe(c, &x->resp));
        goto out;
    }
    if (!json_is_object(x->json)) {
        snprintf(b->why, sizeof(b->why), "the body is %s",
                 x->json == NULL ? x->json_error : shape_type(x->json));
        goto out;
    }
    v = json_object_get(x->json, "balance");
    b->balance = json_number_value(v);
    if (!shape_is_number(v)) {
        snprintf(b->why, sizeof(b->why), "balance is %s", shape_type(v));
        goto out;
    }
    v = json_object_get(x->json, "total_spent");
    b->spent = json_number_value(v);
    if (!shape_is_number(v)) {
        snprintf(b->why, sizeof(b->why), "total_spent is %s", shape_type(v));
        goto out;
    }
    v = json_object_get(x->json, "currency");
    if (!json_is_string(v) || json_string_length(v) == 0) {
        snprintf(b->why, sizeof(b->why), "currency is %s", shape_type(v));
        goto out;
    }
    v = json_object_get(x->json, "last_updated");
    if (parse_iso8601_utc(json_string_value(v), &b->updated) != 0) {
        snprintf(b->why, sizeof(b->why),
                 "last_updated is %s%s%s, not an ISO-8601 UTC time",
                 shape_type(v), json_is_string(v) ? " " : "",
                 json_is_string(v) ? json_string_value(v) : "");
        goto out;
    }
    b->ok = true;
out:
    return;
}

/* The smallest change between amounts a and b that their printing is sure
 * to show: PRINT_RESOLUTION of the larger, never below ABSOLUTE_FLOOR. */
static double resolution(double a, double b)
{
    return fmax(PRINT_RESOLUTION * fmax(fabs(a), fabs(b)), ABSOLUTE_FLOOR);
}

/* True when the amounts a and b agree: relatively, with the noise as the
 * floor. */
static bool money_equal(double a, double b, double noise)
{
    return fabs(a - b) <= RELATIVE_TOLERANCE * fmax(fabs(a), fabs(b)) + noise;
}

/* An amount as its JSON wrote it (the shortest decimal of the double),
 * and the exact change between two amounts: money is printed exactly. */
struct money_text {
    char v[DECIMAL_MAX];
};

/* The shortest decimal of v. */
static struct money_text money(double v)
{
    struct money_text t;

    decimal_shortest(v, t.v, sizeof(t.v));
    return t;
}

/* The exact decimal of a - b. */
static struct money_text money_sub(double a, double b)
{
    struct money_text t;

    decimal_sub(a, b, t.v, sizeof(t.v));
    return t;
}

/* Warns that a charge seen on one amount (s1 to s2) is below what the
 * other amount (u1 to u2) can print (res), so the other side cannot be
 * checked. */
static void warn_unseen(struct conform *c, const struct exchange *after,
                        const char *seen, double s1, double s2,
                        const char *moved, const char *unseen, double u1,
                        double u2, const char *motion, double res)
{
    conform_warn(c, &checks[CHARGE],
                 exchange_evidence(after, EVIDENCE_NO_FOCUS),
                 "%s %s -> %s %s by %s, but %s %s -> %s cannot show it: the "
                 "charge is below the printing precision of %s (about %.3g), "
                 "so its %s cannot be checked",
                 seen, money(s1).v, money(s2).v, moved,
                 money_sub(s2 > s1 ? s2 : s1, s2 > s1 ? s1 : s2).v, unseen,
                 money(u1).v, money(u2).v, unseen, res, motion);
}

/* Judges billing.charge from two good balances. A charge is seen on an
 * amount when the amount moved by more than it can resolve. Seen on both,
 * the two must agree; seen on neither, nothing was charged; seen on one
 * only, it fails unless it is below what the other amount can show, which
 * is a warning: the check cannot observe it there. */
static void judge_amounts(struct conform *c, const struct balance *b1,
                          const struct balance *b2,
                          const struct exchange *after)
{
    double fell = b1->balance - b2->balance, rose = b2->spent - b1->spent;
    double res_b = resolution(b1->balance, b2->balance);
    double res_s = resolution(b1->spent, b2->spent);
    bool seen_b = fell > res_b, seen_s = rose > res_s;
    bool back = fell < -res_b || rose < -res_s;

    if (!back && seen_b && seen_s && money_equal(fell, rose, res_b + res_s)) {
        conform_pass(
            c, &checks[CHARGE], exchange_evidence(after, EVIDENCE_NO_FOCUS),
            "charged %s: balance %s -> %s, total_spent %s -> %s",
            money_sub(b1->balance, b2->balance).v, money(b1->balance).v,
            money(b2->balance).v, money(b1->spent).v, money(b2->spent).v);
    } else if (!back && seen_s && !seen_b && rose <= res_b) {
        warn_unseen(c, after, "total_spent", b1->spent, b2->spent, "rose",
                    "the balance", b1->balance, b2->balance, "fall", res_b);
    } else if (!back && seen_b && !seen_s && fell <= res_s) {
        warn_unseen(c, after, "the balance", b1->balance, b2->balance, "fell",
                    "total_spent", b1->spent, b2->spent, "rise", res_s);
    } else {
        conform_violation(
            c, &checks[CHARGE], exchange_evidence(after, EVIDENCE_NO_FOCUS),
            "balance %s -> %s, total_spent %s -> %s: the balance fell by %s "
            "and total_spent rose by %s",
            money(b1->balance).v, money(b2->balance).v, money(b1->spent).v,
            money(b2->spent).v, money_sub(b1->balance, b2->balance).v,
            money_sub(b2->spent, b1->spent).v);
    }
}

/* Judges the charge of the billed request between two balances. */
static void judge_charge(struct conform *c, const struct balance *b1,
                         const struct balance *b2, const struct exchange *chat,
                         const struct exchange *after)
{
    if (!exchange_status_is(chat, 200))
        conform_violation(
            c, &checks[CHARGE], exchange_evidence(chat, EVIDENCE_NO_FOCUS),
            "the billed request got %s", conform_describe(c, &chat->resp));
    else
        judge_amounts(c, b1, b2, after);
    if (b2->updated < b1->updated)
        conform_violation(c, &checks[LAST_UPDATED],
                          exchange_evidence(after, EVIDENCE_NO_FOCUS),
                          "last_updated went back by %.3f s",
                          b1->updated - b2->updated);
    else
        conform_pass(c, &checks[LAST_UPDATED], NULL,
                     "last_updated moved %.3f s forward",
                     b2->updated - b1->updated);
}

/* Judges the 402 for --empty-key. */
static void judge_empty(struct conform *c)
{
    const char *empty = conform_options(c)->empty_key, *type, *code;
    struct exchange x;

    if (empty == NULL) {
        conform_skip(c, &checks[INSUFFICIENT], "needs --empty-key KEY");
        conform_skip(c, &checks[INSUFFICIENT_CODE], "needs --empty-key KEY");
        return;
    }
    exchange_init(&x);
    exchange_send(c, &x, "POST", "/chat/completions", conform_bearer(c, empty),
                  chat_body(conform_model(c), "Hi", 8), NULL, false);
    if (exchange_expect_error(c, &checks[INSUFFICIENT], &x, 402) &&
        exchange_has_error_body(&x)) {
        type = shape_error_field(x.json, "type");
        code = shape_error_field(x.json, "code");
        if ((type != NULL && strcmp(type, "insufficient_quota") == 0) ||
            (code != NULL && strcmp(code, "insufficient_quota") == 0))
            conform_pass(c, &checks[INSUFFICIENT_CODE], NULL,
                         "insufficient_quota");
        else
            conform_violation(c, &checks[INSUFFICIENT_CODE],
                              exchange_evidence(&x, EVIDENCE_NO_FOCUS),
                              "type %s, code %s", type,
                              code != NULL ? code : "null");
    } else {
        conform_skip(c, &checks[INSUFFICIENT_CODE],
                     "no 402 error body (see billing.insufficient)");
    }
    exchange_cleanup(&x);
}

/* Runs the group: balance, a billed request, balance, then 402. */
static void run(struct conform *c)
{
    const char *key = conform_options(c)->api_key;
    struct exchange before, chat, after;
    struct balance b1, b2;

    exchange_init(&before);
    exchange_init(&chat);
    exchange_init(&after);
    exchange_send(c, &before, "GET", "/balance", conform_bearer(c, key), NULL,
                  NULL, false);
    exchange_send(
        c, &chat, "POST", "/chat/completions", conform_bearer(c, key),
        chat_body(conform_model(c), "Write one sentence about the sea.", 16),
        NULL, false);
    exchange_send(c, &after, "GET", "/balance", conform_bearer(c, key), NULL,
                  NULL, false);
    read_balance(c, &before, &b1);
    read_balance(c, &after, &b2);
    if (!b1.ok || !b2.ok) {
        conform_violation(
            c, &checks[SHAPE],
            exchange_evidence(b1.ok ? &after : &before, EVIDENCE_NO_FOCUS),
            "%s", b1.ok ? b2.why : b1.why);
        conform_skip(c, &checks[CHARGE],
                     "no balance to compare (see "
                     "billing.balance-shape)");
        conform_skip(c, &checks[LAST_UPDATED],
                     "no balance to compare (see "
                     "billing.balance-shape)");
    } else {
        conform_pass(
            c, &checks[SHAPE], exchange_evidence(&before, EVIDENCE_NO_FOCUS),
            "balance %s %s", money(b1.balance).v,
            json_string_value(json_object_get(before.json, "currency")));
        judge_charge(c, &b1, &b2, &chat, &after);
    }
    judge_empty(c);
    exchange_cleanup(&before);
    exchange_cleanup(&chat);
    exchange_cleanup(&after);
}

/* Billing is an AI Nexus extension: OpenAI has no /balance. */
static const char *missing(const struct conform *c)
{
    return conform_options(c)->profile == PROFILE_AI_NEXUS
               ? NULL
               : "needs --profile ai-nexus (GET /balance and 402 are AI "
                 "Nexus extensions)";
}

const struct group_def group_billing = {
    .name = "billing",
    .about = "AI Nexus only: GET /balance, the charge of a request, 402",
    .checks = checks,
    .n_checks = sizeof(checks) / sizeof(checks[0]),
    .needs_model = true,
    .missing = missing,
    .run = run,
};
