/* test_template: slots, spaces, the literal "{{", and the reasons a
 * template is refused, with the offset of the problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "template.h"

/* Compiles text (which must compile) and renders it with v. */
static char *render(const char *text, const struct template_vars *v)
{
    struct template *t = NULL;
    char why[200], *out;
    size_t at;

    if (template_compile(text, &t, why, sizeof(why), &at) != 0)
        fail_msg("'%s' refused: %s", text, why);
    out = template_render(t, v);
    template_free(t);
    assert_non_null(out);
    return out;
}

/* Every slot renders its value; absent strings render empty. */
static void test_slots(void **state)
{
    struct template_vars v = {"hi \"there\"", "m1", 3, 2, 1718000000};
    struct template_vars none = {NULL, NULL, 0, 0, 0};
    char *s;

    (void)state;
    s = render(
        "{{last_user_message}}|{{ model }}|{{  count}}|{{turn }}|{{now}}", &v);
    assert_string_equal(s, "hi \"there\"|m1|3|2|1718000000");
    free(s);
    s = render("[{{last_user_message}}][{{model}}]", &none);
    assert_string_equal(s, "[][]");
    free(s);
    s = render("plain text, no slot", &v);
    assert_string_equal(s, "plain text, no slot");
    free(s);
    s = render("", &v);
    assert_string_equal(s, "");
    free(s);
    /* "{{{{" is a literal "{{"; a lone "}}" is text. */
    s = render("{{{{model}} }} {{model}}", &v);
    assert_string_equal(s, "{{model}} }} m1");
    free(s);
}

/* Unknown names (with the closest known one) and unclosed slots are
 * refused at their offset. */
static void test_refused(void **state)
{
    static const struct {
        const char *text;
        size_t at;
        const char *why;
    } cases[] = {
        {"ab {{ modle }}", 3,
         "unknown template name 'modle'; did you mean 'model'? (known: "
         "last_user_message, model, count, turn, now)"},
        {"{{nothing_like_it}}", 0,
         "unknown template name 'nothing_like_it' (known: last_user_message, "
         "model, count, turn, now)"},
        {"x {{model", 2,
         "'{{' without its '}}' (write '{{{{' for a literal '{{')"},
        {"{{}}", 0, "unknown template name ''"},
    };
    struct template *t;
    char why[200];
    size_t i, at;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        t = NULL;
        at = 99;
        assert_int_equal(
            template_compile(cases[i].text, &t, why, sizeof(why), &at), -1);
        assert_null(t);
        assert_int_equal(at, cases[i].at);
        if (strncmp(why, cases[i].why, strlen(cases[i].why)) != 0)
            fail_msg("'%s': got '%s'", cases[i].text, why);
    }
    template_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slots),
        cmocka_unit_test(test_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
