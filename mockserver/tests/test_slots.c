/* test_slots: the connection bookkeeping with a fake clock and made-up
 * addresses: the caps in all and per address, deadlines cut in order and
 * started over at each phase, and reports at most once per interval. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "slots.h"

/* An IPv4 socket address. */
static struct sockaddr_in v4(const char *text)
{
    struct sockaddr_in sa;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, text, &sa.sin_addr), 1);
    return sa;
}

/* An IPv6 socket address. */
static struct sockaddr_in6 v6(const char *text)
{
    struct sockaddr_in6 sa;

    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, text, &sa.sin6_addr), 1);
    return sa;
}

#define SA(x) ((const struct sockaddr *)&(x))

/* The descriptors cut so far, in order. */
static struct {
    int fds[16];
    int n;
} cuts;

static void record_cut(int fd, void *cls)
{
    (void)cls;
    if (cuts.n < 16)
        cuts.fds[cuts.n++] = fd;
}

static const struct slots_config config = {
    .max_total = 5, .max_per_addr = 2, .header_ms = 100, .body_ms = 300};

/* Per address: the third from one address is refused, another address is
 * not; an IPv4 address mapped into IPv6 is the same address; a released
 * slot makes room again. */
static void test_cap_per_address(void **state)
{
    struct slots *sl = slots_new(&config);
    struct sockaddr_in a = v4("127.0.0.2"), b = v4("10.0.0.1");
    struct sockaddr_in6 mapped = v6("::ffff:127.0.0.2"), c = v6("2001:db8::1");
    struct slot *s1, *s2, *s3;
    struct slots_news n;

    (void)state;
    assert_non_null(sl);
    s1 = slots_admit(sl, SA(a), 10, 0);
    s2 = slots_admit(sl, SA(mapped), 11, 0);
    assert_non_null(s1);
    assert_non_null(s2);
    assert_false(slots_would_admit(sl, SA(a)));
    assert_null(slots_admit(sl, SA(mapped), 12, 0));
    assert_true(slots_would_admit(sl, SA(b)));
    assert_true(slots_would_admit(sl, SA(c)));
    slots_release(sl, s1);
    assert_true(slots_would_admit(sl, SA(a)));
    s3 = slots_admit(sl, SA(a), 13, 0);
    assert_non_null(s3);
    assert_true(slots_report(sl, 0, &n));
    assert_int_equal(n.refused_addr, 2);
    assert_int_equal(n.refused_total, 0);
    assert_string_equal(n.last_refused, "127.0.0.2");
    slots_release(sl, s2);
    slots_release(sl, s3);
    slots_free(sl);
}

/* In all: the sixth is refused whatever its address; no cap per address
 * when max_per_addr is 0. */
static void test_cap_in_all(void **state)
{
    struct slots_config cfg = config;
    struct sockaddr_in a = v4("127.0.0.1");
    struct slot *held[5];
    struct slots *sl;
    struct slots_news n;
    int i;

    (void)state;
    cfg.max_per_addr = 0;
    sl = slots_new(&cfg);
    assert_non_null(sl);
    for (i = 0; i < 5; i++) {
        held[i] = slots_admit(sl, SA(a), i, 0);
        assert_non_null(held[i]);
    }
    assert_false(slots_would_admit(sl, SA(a)));
    assert_false(slots_would_admit(sl, NULL));
    assert_true(slots_report(sl, 0, &n));
    assert_int_equal(n.refused_total, 2);
    assert_int_equal(n.refused_addr, 0);
    for (i = 0; i < 5; i++)
        slots_release(sl, held[i]);
    assert_true(slots_would_admit(sl, SA(a)));
    slots_free(sl);
}

/* Deadlines: headers 100 ms after the admission, the body 300 ms after
 * the headers; cut in deadline order, each once; none while answering;
 * the header deadline starts over when the next request is awaited. */
static void test_deadlines(void **state)
{
    struct slots *sl = slots_new(&config);
    struct sockaddr_in a = v4("127.0.0.1"), b = v4("127.0.0.3"),
                       c = v4("127.0.0.4");
    struct slot *s1, *s2, *s3;
    struct slots_news n;

    (void)state;
    cuts.n = 0;
    s1 = slots_admit(sl, SA(a), 1, 0);
    s2 = slots_admit(sl, SA(b), 2, 10);
    s3 = slots_admit(sl, SA(c), 3, 20);
    assert_int_equal(slots_expire(sl, 50, record_cut, NULL), 100);
    /* s2 has its headers: its body is due at 340. */
    slots_enter(sl, s2, SLOT_BODY, 40);
    /* s3 is answered: no deadline. */
    slots_enter(sl, s3, SLOT_ANSWER, 45);
    assert_int_equal(slots_expire(sl, 99, record_cut, NULL), 100);
    assert_int_equal(cuts.n, 0);
    /* s1 is cut at its header deadline; nothing more is due before s2's
     * body deadline, but the news of the cut are, at once (the first
     * report), and then nothing until 340. */
    assert_int_equal(slots_expire(sl, 100, record_cut, NULL), 0);
    assert_int_equal(cuts.n, 1);
    assert_int_equal(cuts.fds[0], 1);
    assert_false(slots_timed_out(sl, s1));
    assert_true(slots_report(sl, 100, &n));
    assert_int_equal(n.cut_headers, 1);
    assert_int_equal(n.cut_body, 0);
    /* The next deadline is s2's at 340, but the caller is told to look
     * again by 201: a slot entering its header phase meanwhile is due no
     * sooner than that. */
    assert_int_equal(slots_expire(sl, 101, record_cut, NULL), 201);
    /* s3 answered at 200 and kept alive: headers again, due at 300. */
    slots_enter(sl, s3, SLOT_HEADERS, 200);
    slots_expire(sl, 339, record_cut, NULL);
    assert_int_equal(cuts.n, 2);
    assert_int_equal(cuts.fds[1], 3);
    slots_expire(sl, 340, record_cut, NULL);
    assert_int_equal(cuts.n, 3);
    assert_int_equal(cuts.fds[2], 2);
    assert_true(slots_timed_out(sl, s2));
    slots_expire(sl, 10000, record_cut, NULL);
    assert_int_equal(cuts.n, 3); /* each once */
    slots_release(sl, s1);
    slots_release(sl, s2);
    slots_release(sl, s3);
    slots_free(sl);
}

/* Reports: the first at once, then at most one per SLOTS_REPORT_MS, each
 * with what happened since the previous one; none without news. */
static void test_reports(void **state)
{
    struct slots_config cfg = config;
    struct sockaddr_in a = v4("192.0.2.7");
    struct slot *held;
    struct slots *sl;
    struct slots_news n;

    (void)state;
    cfg.max_total = 1;
    cfg.header_ms = cfg.body_ms = 3600000; /* out of the way */
    sl = slots_new(&cfg);
    held = slots_admit(sl, SA(a), 1, 0);
    assert_false(slots_report(sl, 0, &n));
    assert_false(slots_would_admit(sl, SA(a)));
    assert_true(slots_report(sl, 5, &n));
    assert_int_equal(n.refused_total, 1);
    assert_false(slots_would_admit(sl, SA(a)));
    assert_false(slots_would_admit(sl, SA(a)));
    assert_false(slots_report(sl, 5 + SLOTS_REPORT_MS - 1, &n));
    /* The timer is told when the next report falls due. */
    slots_enter(sl, held, SLOT_ANSWER, 6);
    assert_int_equal(slots_expire(sl, 6, record_cut, NULL),
                     5 + SLOTS_REPORT_MS);
    assert_true(slots_report(sl, 5 + SLOTS_REPORT_MS, &n));
    assert_int_equal(n.refused_total, 2);
    assert_string_equal(n.last_refused, "192.0.2.7");
    assert_int_equal(slots_expire(sl, 6 + SLOTS_REPORT_MS, record_cut, NULL),
                     6 + SLOTS_REPORT_MS + 3600000);
    slots_release(sl, held);
    slots_free(sl);
}

/* The default cap per address: none on loopback, a tenth of the total
 * (at least 1) anywhere else. */
static void test_default_per_address(void **state)
{
    struct sockaddr_in lo = v4("127.0.0.1"), lo2 = v4("127.1.2.3"),
                       any = v4("0.0.0.0"), lan = v4("192.168.1.5");
    struct sockaddr_in6 lo6 = v6("::1"), any6 = v6("::"),
                        mapped = v6("::ffff:127.0.0.1");

    (void)state;
    assert_int_equal(slots_default_per_addr(SA(lo), 10000), 0);
    assert_int_equal(slots_default_per_addr(SA(lo2), 10000), 0);
    assert_int_equal(slots_default_per_addr(SA(lo6), 10000), 0);
    assert_int_equal(slots_default_per_addr(SA(mapped), 10000), 0);
    assert_int_equal(slots_default_per_addr(SA(any), 10000), 1000);
    assert_int_equal(slots_default_per_addr(SA(any6), 10000), 1000);
    assert_int_equal(slots_default_per_addr(SA(lan), 100), 10);
    assert_int_equal(slots_default_per_addr(SA(lan), 7), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_per_address),
        cmocka_unit_test(test_cap_in_all),
        cmocka_unit_test(test_deadlines),
        cmocka_unit_test(test_reports),
        cmocka_unit_test(test_default_per_address),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
