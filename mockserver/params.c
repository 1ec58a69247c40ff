/* params: the unknown-parameter policy, applied to a parsed body. */
#include "params.h"

#include <string.h>

#include "validate.h"
#include "vschema.h"

/* The phrase naming what a type expects, as validation's messages do. */
static const char *const expected[] = {
    [FX_TYPE_STRING] = "a string",  [FX_TYPE_INTEGER] = "an integer",
    [FX_TYPE_NUMBER] = "a number",  [FX_TYPE_BOOLEAN] = "a boolean",
    [FX_TYPE_OBJECT] = "an object", [FX_TYPE_ARRAY] = "an array",
    [FX_TYPE_ANY] = "any value",
};

/* True when v has type t. */
static bool type_ok(enum fx_type t, const json_t *v)
{
    switch (t) {
    case FX_TYPE_STRING:
        return json_is_string(v);
    case FX_TYPE_INTEGER:
        return json_is_integer(v);
    case FX_TYPE_NUMBER:
        return json_is_number(v);
    case FX_TYPE_BOOLEAN:
        return json_is_boolean(v);
    case FX_TYPE_OBJECT:
        return json_is_object(v);
    case FX_TYPE_ARRAY:
        return json_is_array(v);
    default:
        return true;
    }
}

/* The accepted parameter called name, or NULL. */
static const struct fx_param *accepted(const struct fx_params *p,
                                       const char *name)
{
    size_t i;

    for (i = 0; i < p->naccept; i++)
        if (strcmp(p->accept[i].name, name) == 0)
            return &p->accept[i];
    return NULL;
}

int params_apply(const struct fx_params *p, json_t *body, struct api_error *e)
{
    const struct fx_param *a;
    struct vschema c;
    const char *key;
    json_t *v;
    void *tmp;

    if (!json_is_object(body) ||
        (p->naccept == 0 && p->unknown != FX_UNKNOWN_IGNORE))
        return 0;
    json_object_foreach_safe(body, tmp, key, v)
    {
        if (validate_chat_knows(key))
            continue;
        a = accepted(p, key);
        if (a != NULL && !type_ok(a->type, v)) {
            vschema_init(&c, e, NULL);
            vschema_push_key(&c, key);
            return vschema_fail_type(&c, v, expected[a->type]);
        }
        if (a != NULL || p->unknown == FX_UNKNOWN_IGNORE)
            json_object_del(body, key);
    }
    return 0;
}
