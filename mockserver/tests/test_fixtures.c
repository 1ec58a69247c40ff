/* test_fixtures: cmocka tests of the fixture loader: the embedded default,
 * money parsing, every error class at its exact position, files on disk. */
#include "fixtures.h"
#include "rules.h"
#include "scenario.h"
#include "template.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define PICO FX_PICO_PER_USD

/* Building blocks of the error cases; each case is one small document. */
#define VERSION1 "version: 1\n"
#define PRICE "price: {input_per_million: 1, output_per_million: 2}"
#define ONE_MODEL "models:\n  - {id: m, created: 1, " PRICE "}\n"
#define PLAN_P "plans: {p: {requests_per_minute: 1}}\n"
#define KEY_WITH_BALANCE(b)                                                    \
    VERSION1 PLAN_P "keys:\n  - {key: k, plan: p, balance: " b "}\n" ONE_MODEL
#define MODEL_WITH(extra)                                                      \
    VERSION1 "models:\n  - {id: m, created: 1, " PRICE extra "}\n"
#define MODEL_FIELDS(f) VERSION1 "models:\n  - {" f "}\n"
#define VERSION2 "version: 2\n"
/* A version 2 fixture whose rules start on line 5. */
#define RULES VERSION2 ONE_MODEL "rules:\n"
#define DEEP "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["

/* A document that must fail at line:column with a message containing msg. */
struct error_case {
    const char *name;
    const char *yaml;
    int line;
    int column;
    const char *msg;
};

/* Positions were worked out by locating the offending token in the text,
 * independently of the loader. */
static const struct error_case error_cases[] = {
    {"unknown_key_top", VERSION1 "colour: red\n" ONE_MODEL, 2, 1,
     "unknown key 'colour' in the fixture"},
    {"unknown_key_model",
     VERSION1 "models:\n  - id: m\n    created: 1\n    " PRICE
              "\n    colour: red\n",
     6, 5,
     "unknown key 'colour' in model (allowed: id, created, owned_by, price, "
     "stream)"},
    {"unknown_key_price",
     VERSION1 "models:\n  - {id: m, created: 1, price: {input_per_million: 1, "
              "currency: usd}}\n",
     3, 55, "unknown key 'currency' in price"},
    {"unknown_key_stream", MODEL_WITH(", stream: {ttft: 5}"), 3, 88,
     "unknown key 'ttft' in stream"},
    {"unknown_key_plan", VERSION1 "plans:\n  free: {rpm: 10}\n" ONE_MODEL, 3,
     10, "unknown key 'rpm' in plan"},
    {"unknown_key_key",
     VERSION1 PLAN_P
     "keys:\n  - {key: k, plan: p, balance: 1, credit: 2}\n" ONE_MODEL,
     4, 35, "unknown key 'credit' in key"},
    {"wrong_type_top", "- version: 1\n", 1, 1,
     "the fixture must be a mapping, not a sequence"},
    {"wrong_type_price",
     VERSION1 "models:\n  - {id: m, created: 1, price: [1, 2]}\n", 3, 32,
     "'price' must be a mapping, not a sequence"},
    {"wrong_type_models", VERSION1 "models: {id: m}\n", 2, 9,
     "'models' must be a sequence, not a mapping"},
    {"wrong_type_model_entry", VERSION1 "models: [m]\n", 2, 10,
     "each model must be a mapping, not a scalar"},
    {"wrong_type_id", MODEL_FIELDS("id: {a: b}, created: 1, " PRICE), 3, 10,
     "'id' must be a string, not a mapping"},
    {"wrong_type_plan", VERSION1 "plans:\n  free: ~\n" ONE_MODEL, 3, 9,
     "'free' must be a mapping, not empty"},
    {"wrong_type_keys", VERSION1 "keys: {k: 1}\n" ONE_MODEL, 2, 7,
     "'keys' must be a sequence, not a mapping"},
    {"wrong_type_balance", KEY_WITH_BALANCE("{usd: 1}"), 4, 32,
     "'balance' must be a number, not a mapping"},
    {"wrong_type_mapping_key", VERSION1 "[a]: 1\n", 2, 1,
     "keys in the fixture must be strings, not a sequence"},
    {"wrong_type_plan_name",
     VERSION1 "plans: {[a]: {requests_per_minute: 1}}\n", 2, 9,
     "plan names must be strings, not a sequence"},
    {"missing_version", "name: x\n" ONE_MODEL, 1, 1,
     "missing required key 'version' in the fixture"},
    {"missing_models", VERSION1 "name: x\n", 1, 1,
     "missing required key 'models' in the fixture"},
    {"missing_created", MODEL_FIELDS("id: m, " PRICE), 3, 5,
     "missing required key 'created' in model"},
    {"missing_output_price",
     VERSION1
     "models:\n  - {id: m, created: 1, price: {input_per_million: 1}}\n",
     3, 32, "missing required key 'output_per_million' in price"},
    {"missing_balance",
     VERSION1 PLAN_P "keys:\n  - key: k\n    plan: p\n" ONE_MODEL, 4, 5,
     "missing required key 'balance' in key"},
    {"missing_rpm",
     VERSION1 "plans:\n  free:\n    tokens_per_minute: 5\n" ONE_MODEL, 4, 5,
     "missing required key 'requests_per_minute' in plan"},
    {"duplicate_model_id",
     VERSION1 ONE_MODEL "  - {id: m, created: 2, " PRICE "}\n", 4, 10,
     "duplicate model id 'm' (first defined at line 3)"},
    {"duplicate_api_key",
     VERSION1 PLAN_P "keys:\n  - {key: k1, plan: p, balance: 1}\n  - {key: k1, "
                     "plan: p, balance: 2}\n" ONE_MODEL,
     5, 11, "duplicate API key 'k1' (first defined at line 4)"},
    {"duplicate_plan",
     VERSION1 "plans:\n  free: {requests_per_minute: 1}\n  free: "
              "{requests_per_minute: 2}\n" ONE_MODEL,
     4, 3, "duplicate plan 'free' (first defined at line 3)"},
    {"duplicate_mapping_key",
     VERSION1 "models:\n  - id: m\n    created: 1\n    created: 2\n    " PRICE
              "\n",
     5, 5, "key 'created' appears twice in model (first at line 4)"},
    {"unknown_plan",
     VERSION1 PLAN_P "keys:\n  - {key: k, plan: gold, balance: 1}\n" ONE_MODEL,
     4, 20, "key 'k' uses unknown plan 'gold'"},
    {"unknown_plan_no_plans",
     VERSION1 "keys:\n  - {key: k, plan: free, balance: 1}\n" ONE_MODEL, 3, 20,
     "key 'k' uses unknown plan 'free'"},
    {"models_empty", VERSION1 "models: []\n", 2, 9,
     "'models' must list at least one model"},
    {"number_quoted", KEY_WITH_BALANCE("\"5\""), 4, 32,
     "'balance' must be an unquoted number, not a quoted string"},
    {"number_exponent", KEY_WITH_BALANCE("1e3"), 4, 32,
     "'balance' must not use an exponent (got '1e3')"},
    {"number_negative", KEY_WITH_BALANCE("-1"), 4, 32,
     "'balance' must not be negative (got '-1')"},
    {"number_plus", KEY_WITH_BALANCE("+1"), 4, 32,
     "'balance' must not have a sign (got '+1')"},
    {"number_hex", KEY_WITH_BALANCE("0x10"), 4, 32,
     "'balance' must be written in decimal, not hex, octal or binary (got "
     "'0x10')"},
    {"number_leading_zero", KEY_WITH_BALANCE("007"), 4, 32,
     "'balance' must not have leading zeros"},
    {"number_separator", KEY_WITH_BALANCE("1_000"), 4, 32,
     "'balance' must not use digit separators (got '1_000')"},
    {"number_garbage", KEY_WITH_BALANCE("abc"), 4, 32,
     "'balance' must be a decimal number like 42.50 (got 'abc')"},
    {"number_no_int_part", KEY_WITH_BALANCE(".5"), 4, 32,
     "'balance' must be a decimal number like 42.50 (got '.5')"},
    {"number_trailing_dot", KEY_WITH_BALANCE("5."), 4, 32,
     "'balance' must be a decimal number like 42.50 (got '5.')"},
    {"money_13_decimals", KEY_WITH_BALANCE("1.0000000000001"), 4, 32,
     "'balance' has more than 12 decimal places (got '1.0000000000001')"},
    {"money_too_large", KEY_WITH_BALANCE("9000000.01"), 4, 32,
     "'balance' must be at most 9000000 (got '9000000.01')"},
    {"money_overflow", KEY_WITH_BALANCE("99999999999999999999999"), 4, 32,
     "'balance' must be at most 9000000"},
    {"spent_negative",
     VERSION1 PLAN_P
     "keys:\n  - {key: k, plan: p, balance: 1, total_spent: -0.5}\n" ONE_MODEL,
     4, 48, "'total_spent' must not be negative (got '-0.5')"},
    {"money_sum_too_large",
     VERSION1 PLAN_P "keys:\n  - {key: k, plan: p, balance: 5000000, "
                     "total_spent: 4000000.01}\n" ONE_MODEL,
     4, 54, "key 'k': balance plus total_spent must be at most 9000000 USD"},
    {"price_7_decimals",
     MODEL_FIELDS("id: m, created: 1, price: {input_per_million: 0.1234567, "
                  "output_per_million: 2}"),
     3, 52,
     "'input_per_million' has more than 6 decimal places (got '0.1234567')"},
    {"price_too_large",
     MODEL_FIELDS("id: m, created: 1, price: {input_per_million: 1, "
                  "output_per_million: 10000.000001}"),
     3, 75, "'output_per_million' must be at most 10000 (got '10000.000001')"},
    {"created_milliseconds",
     MODEL_FIELDS("id: m, created: 1745971200000, " PRICE), 3, 22,
     "'created' must be at most 253402300799 (got '1745971200000')"},
    {"created_fraction", MODEL_FIELDS("id: m, created: 1.5, " PRICE), 3, 22,
     "'created' must be a whole number (got '1.5')"},
    {"rpm_too_large",
     VERSION1 "plans: {p: {requests_per_minute: 4294967296}}\n" ONE_MODEL, 2,
     34, "'requests_per_minute' must be at most 4294967295 (got '4294967296')"},
    {"ttft_empty", MODEL_WITH(", stream: {time_to_first_token_ms: }"), 3, 112,
     "'time_to_first_token_ms' must be a number, not empty"},
    {"tps_quoted", MODEL_WITH(", stream: {tokens_per_second: '20'}"), 3, 107,
     "'tokens_per_second' must be an unquoted number, not a quoted string"},
    /* Version 2: did-you-mean, versions, rules and settings. */
    {"v2_did_you_mean", RULES "  - reply: {contnet: hi}\n", 5, 13,
     "unknown key 'contnet' in reply; did you mean 'content'? (allowed: "},
    {"v2_key_in_v1", VERSION1 ONE_MODEL "rules: []\n", 4, 1,
     "key 'rules' in the fixture needs 'version: 2' (this file says "
     "version 1)"},
    {"v2_model_key_in_v1", MODEL_WITH(", reasoning: true"), 3, 79,
     "key 'reasoning' in model needs 'version: 2'"},
    {"v2_bad_regex",
     RULES "  - match: {last_user_message: {regex: '(a'}}\n"
           "    reply: {content: x}\n",
     5, 40,
     "'regex': bad regular expression at offset 2: missing closing "
     "parenthesis"},
    {"v2_template_name", RULES "  - reply: {template: 'hi {{ modle }}'}\n", 5,
     23,
     "'template', at byte 3: unknown template name 'modle'; did you mean "
     "'model'?"},
    {"v2_template_open", RULES "  - reply: {template: 'hi {{ model'}\n", 5, 23,
     "'template', at byte 3: '{{' without its '}}'"},
    {"v2_reply_mixed", RULES "  - reply: {content: x, status: 500}\n", 5, 25,
     "'content' and 'status' cannot go together"},
    {"v2_reply_empty", RULES "  - reply: {finish_reason: stop}\n", 5, 12,
     "a reply needs content, template, reasoning_content, tool_calls or "
     "deltas"},
    {"v2_status_range", RULES "  - reply: {status: 200}\n", 5, 21,
     "'status' with an error body must be from 400 to 599"},
    {"v2_finish_reason", RULES "  - reply: {content: x, finish_reason: stpo}\n",
     5, 40, "(got 'stpo'); did you mean 'stop'?"},
    {"v2_state_unreached",
     RULES "  - {scenario: s, state: done, reply: {content: x}}\n", 5, 26,
     "no rule leads scenario 's' to state 'done' and it does not start "
     "there"},
    {"v2_state_typo",
     RULES "  - {scenario: s, then: recovered, reply: {status: 500}}\n"
           "  - {scenario: s, state: recoverd, reply: {content: x}}\n",
     6, 26, "did you mean 'recovered'?"},
    {"v2_call_alone", RULES "  - {call: 2, reply: {content: x}}\n", 5, 6,
     "'call' needs 'scenario'"},
    {"v2_call_zero", RULES "  - {scenario: s, call: 0, reply: {content: x}}\n",
     5, 25, "'call' counts the calls of a state from 1"},
    {"v2_duplicate_rule",
     RULES "  - {name: a, reply: {content: x}}\n"
           "  - {name: a, reply: {content: y}}\n",
     6, 12, "duplicate rule name 'a' (first defined at line 5)"},
    {"v2_header_space", RULES "  - reply: {content: x, headers: {'X Y': z}}\n",
     5, 35, "a header name must not contain spaces"},
    {"v2_header_framing",
     RULES "  - reply: {content: x, headers: {Content-Type: z}}\n", 5, 35,
     "the server sets 'content-type' itself"},
    {"v2_route_syntax", VERSION2 ONE_MODEL "rate_limits: {routes: ['/v1']}\n",
     4, 24, "a route is a method and a path"},
    {"v2_window_zero", VERSION2 ONE_MODEL "rate_limits: {window_ms: 0}\n", 4,
     26, "'window_ms' must be at least 1"},
    {"v2_param_type",
     VERSION2 ONE_MODEL "parameters: {accept: {top_k: integr}}\n", 4, 30,
     "(got 'integr'); did you mean 'integer'?"},
    {"v2_param_known", VERSION2 ONE_MODEL "parameters: {accept: {seed: any}}\n",
     4, 23, "'seed' is a parameter of the chat API"},
    {"v2_param_unknown", VERSION2 ONE_MODEL "parameters: {unknown: ignroe}\n",
     4, 23, "did you mean 'ignore'?"},
    {"v2_bad_pointer",
     RULES "  - match: {json: {a: 1}}\n    reply: {content: x}\n", 5, 20,
     "a JSON pointer is empty or starts with '/'"},
    {"v2_completion_path",
     RULES "  - match: {path: /x}\n    reply: {content: x}\n", 5, 13,
     "a completion reply answers POST /v1/chat/completions only"},
    {"v2_unknown_plan_hint",
     VERSION1 "plans: {paid: {requests_per_minute: 1}}\nkeys:\n"
              "  - {key: k, plan: piad, balance: 1}\n" ONE_MODEL,
     4, 20, "key 'k' uses unknown plan 'piad'; did you mean 'paid'?"},
    {"v2_no_models", VERSION2 "name: x\n", 1, 1,
     "no file defines a model; at least one needs 'models'"},
    {"v2_scenario_unused", VERSION2 ONE_MODEL "scenarios: {s: {}}\n", 4, 13,
     "no rule uses scenario 's'"},
    {"v2_calls_empty", RULES "  - reply: {tool_calls: []}\n", 5, 25,
     "'tool_calls' must list at least one call"},
    {"v2_delta_scalar", RULES "  - reply: {deltas: [hi]}\n", 5, 22,
     "each delta must be a mapping, not a scalar"},
    {"v2_case_without_regex",
     RULES "  - match: {model: {equals: a, ignore_case: true}}\n"
           "    reply: {content: x}\n",
     5, 32, "'ignore_case' goes only with 'regex'"},
    {"v2_two_comparisons",
     RULES "  - match: {model: {equals: a, regex: b}}\n"
           "    reply: {content: x}\n",
     5, 39,
     "a text condition takes one of equals, contains, lacks, regex or absent, "
     "not two"},
    {"v2_absent_false",
     RULES "  - match: {headers: {X-A: {absent: false}}}\n"
           "    reply: {status: 500}\n",
     5, 37, "'absent' takes only true"},
    {"v2_lacks_and_contains",
     RULES "  - match: {body: {lacks: a, contains: b}}\n"
           "    reply: {status: 500}\n",
     5, 40, "not two (a list of conditions gives several)"},
    {"v2_condition_list_empty",
     RULES "  - match: {body: []}\n    reply: {status: 500}\n", 5, 19,
     "a list of text conditions must not be empty"},
    {"v2_body_hex_odd", RULES "  - reply: {body_hex: abc}\n", 5, 23,
     "'body_hex' must be pairs of hex digits (got 3 characters)"},
    {"v2_body_hex_and_body", RULES "  - reply: {body_hex: '00', body: x}\n", 5,
     13, "'body' and 'body_hex' cannot go together in one reply"},
    {"v2_body_template_name", RULES "  - reply: {body_template: '{{nwo}}'}\n",
     5, 28,
     "'body_template', at byte 0: unknown template name 'nwo'; did you mean "
     "'now'?"},
    {"v2_early_completion", RULES "  - {early: true, reply: {content: x}}\n", 5,
     6, "an early rule answers before the chat route's checks"},
    {"v2_endless_completion",
     RULES "  - reply: {content: x, fault: {endless: y}}\n", 5, 25,
     "'endless' goes with a status reply (a raw body)"},
    {"v2_latency_body_fault",
     RULES "  - reply: {body: x, latency_ms: 5, fault: {body_delay_ms: 5}}\n",
     5, 22, "use the fault's 'body_delay_ms'"},
    {"v2_not_http_twice",
     RULES "  - reply: {status: 500, fault: {not_http: a, not_http_hex: "
           "'62'}}\n",
     5, 47, "'not_http' and 'not_http_hex' cannot go together"},
    {"v2_reply_and_replies",
     RULES "  - {reply: {status: 500}, replies: [{status: 500}]}\n", 5, 28,
     "'reply' and 'replies' cannot go together in one rule"},
    {"v2_replies_empty", RULES "  - {replies: []}\n", 5, 15,
     "'replies' must list at least one reply"},
    {"v2_early_completion_later",
     RULES "  - {early: true, replies: [{status: 500}, {content: x}]}\n", 5, 6,
     "an early rule answers before the chat route's checks"},
    {"v2_stream_bool",
     RULES "  - match: {stream: yes}\n    reply: {content: x}\n", 5, 21,
     "'stream' must be true or false (got 'yes')"},
    {"v2_usage_reasoning",
     RULES "  - reply: {content: x, usage: {prompt_tokens: 1, "
           "completion_tokens: 1, reasoning_tokens: 2}}\n",
     5, 91, "'reasoning_tokens' are part of 'completion_tokens'"},
    {"v2_json_duplicate_key", RULES "  - reply: {json: {a: 1, a: 2}}\n", 5, 26,
     "key 'a' appears twice in this object"},
    {"v2_reply_missing", RULES "  - {name: x}\n", 5, 5,
     "missing required key 'reply' in rule"},
    {"version_3", "version: 3\nfuture: yes\n", 1, 10,
     "unsupported version 3; this nexus-mock reads versions 1 and 2"},
    {"version_quoted", "version: \"1\"\n" ONE_MODEL, 1, 10,
     "'version' must be an unquoted number, not a quoted string"},
    {"id_slash", MODEL_FIELDS("id: a/b, created: 1, " PRICE), 3, 10,
     "'id' must not contain '/'"},
    {"id_space", MODEL_FIELDS("id: 'a b', created: 1, " PRICE), 3, 10,
     "'id' must not contain spaces"},
    {"id_empty", MODEL_FIELDS("id: '', created: 1, " PRICE), 3, 10,
     "'id' must not be empty"},
    {"id_nul", MODEL_FIELDS("id: \"a\\0b\", created: 1, " PRICE), 3, 10,
     "'id' must not contain NUL bytes"},
    {"id_tab", MODEL_FIELDS("id: \"a\\tb\", created: 1, " PRICE), 3, 10,
     "'id' must not contain control characters or line breaks"},
    {"key_space",
     VERSION1 PLAN_P
     "keys:\n  - {key: 'sk x', plan: p, balance: 1}\n" ONE_MODEL,
     4, 11, "'key' must not contain spaces"},
    {"owned_by_empty",
     MODEL_FIELDS("id: m, created: 1, owned_by: \"\", " PRICE), 3, 35,
     "'owned_by' must not be empty"},
    {"yaml_unclosed_flow", VERSION1 "models: [\n", 3, 1,
     "YAML: did not find expected node content"},
    {"yaml_colon_in_value", VERSION1 "name: a: b\n", 2, 8,
     "YAML: mapping values are not allowed in this context"},
    {"yaml_tab_indent", VERSION1 "models:\n\t- a\n", 3, 1,
     "YAML: found character that cannot start any token"},
    {"yaml_bad_utf8", VERSION1 "name: \xff\n", 2, 7,
     "YAML: invalid leading UTF-8 octet (byte 0xff)"},
    {"empty_buffer", "", 1, 1, "the fixture is empty"},
    {"empty_comment_only", "# nothing here\n", 1, 1, "the fixture is empty"},
    {"empty_null_document", "~\n", 1, 1, "the fixture is empty"},
    {"two_documents", VERSION1 ONE_MODEL "---\n" VERSION1, 4, 1,
     "a fixture is one YAML document"},
    {"alias", VERSION1 "name: *n\n" ONE_MODEL, 2, 7,
     "aliases (*n) are not supported"},
    {"anchor", VERSION1 "name: &n x\n" ONE_MODEL, 2, 7,
     "anchors (&n) are not supported"},
    {"tag", "version: !!int 1\n" ONE_MODEL, 1, 10,
     "tags (tag:yaml.org,2002:int) are not supported"},
    {"nesting_too_deep", DEEP, 1, 33, "nesting deeper than 32 levels"},
};

/* Loads yaml (NUL-terminated) or fails the test with the loader's message. */
static struct fixtures *load_ok(const char *yaml)
{
    struct fixtures *fx = NULL;
    struct fixture_error err;

    if (fixtures_load_buffer(yaml, strlen(yaml), "test.yaml", &fx, &err) != 0)
        fail_msg("%s:%d:%d: %s", err.file, err.line, err.column, err.message);
    return fx;
}

/* Returns the name of the plan that key uses, failing if the key is absent. */
static const char *plan_of(const struct fixtures *fx, const char *key)
{
    const struct fx_key *k = fixtures_find_key(fx, key);

    assert_non_null(k);
    assert_true(k->plan < fx->nplans);
    return fx->plans[k->plan].name;
}

/* Checks one model's catalog entry and prices in pico-USD per token. */
static void expect_model(const struct fixtures *fx, const char *id,
                         int64_t created, int64_t in, int64_t out)
{
    const struct fx_model *m = fixtures_find_model(fx, id);

    assert_non_null(m);
    assert_string_equal(m->id, id);
    assert_int_equal(m->created, created);
    assert_string_equal(m->owned_by, "ai-nexus");
    assert_int_equal(m->price_in, in);
    assert_int_equal(m->price_out, out);
    assert_false(m->pacing.has_ttft);
    assert_false(m->pacing.has_tps);
}

/* Checks the whole default catalog against fixtures/ai-nexus.yaml. */
static void expect_default(const struct fixtures *fx)
{
    const struct fx_key *k;

    assert_string_equal(fx->name, "ai-nexus");
    assert_int_equal(fx->nmodels, 13);
    assert_string_equal(fx->models[0].id, "deepseek-v4");
    assert_string_equal(fx->models[12].id, "hunyuan-turbos");
    /* 0.27 USD per million tokens is 270000 pico-USD per token. */
    expect_model(fx, "deepseek-v4", 1718000000, 270000, 1100000);
    expect_model(fx, "deepseek-v4-flash", 1748563200, 70000, 280000);
    expect_model(fx, "qwen-max", 1737504000, 1600000, 6400000);

    assert_int_equal(fx->nplans, 2);
    assert_string_equal(fx->plans[0].name, "free");
    assert_int_equal(fx->plans[0].requests_per_minute, 10);
    assert_int_equal(fx->plans[0].tokens_per_minute, 0);
    assert_string_equal(fx->plans[1].name, "paid");
    assert_int_equal(fx->plans[1].requests_per_minute, 3000);
    assert_int_equal(fx->plans[1].tokens_per_minute, 2000000);

    assert_int_equal(fx->nkeys, 3);
    k = fixtures_find_key(fx, "sk-ai-nexus-test");
    assert_non_null(k);
    assert_int_equal(k->balance, INT64_C(42500000000000));
    assert_int_equal(k->spent, INT64_C(157300000000000));
    assert_string_equal(plan_of(fx, "sk-ai-nexus-test"), "paid");
    k = fixtures_find_key(fx, "sk-ai-nexus-free");
    assert_non_null(k);
    assert_int_equal(k->balance, 5 * PICO);
    assert_int_equal(k->spent, 0);
    assert_string_equal(plan_of(fx, "sk-ai-nexus-free"), "free");
    k = fixtures_find_key(fx, "sk-ai-nexus-empty");
    assert_non_null(k);
    assert_int_equal(k->balance, 0);
    assert_string_equal(plan_of(fx, "sk-ai-nexus-empty"), "paid");
}

/* The compiled-in fixture loads and says what the API reference says. */
static void test_default_loads(void **state)
{
    struct fixtures *fx = NULL;
    struct fixture_error err;

    (void)state;
    if (fixtures_load_default(&fx, &err) != 0)
        fail_msg("%s:%d:%d: %s", err.file, err.line, err.column, err.message);
    expect_default(fx);
    fixtures_free(fx);
}

/* Builds path = $NEXUS_SOURCE_DIR/rel, or skips the test when it is unset. */
static void source_path(char *path, size_t size, const char *rel)
{
    const char *dir = getenv("NEXUS_SOURCE_DIR");
    int n;

    if (dir == NULL || dir[0] == '\0') {
        print_message("NEXUS_SOURCE_DIR is not set; skipping\n");
        skip();
    }
    n = snprintf(path, size, "%s/%s", dir, rel);
    assert_true(n > 0 && (size_t)n < size);
}

/* The file on disk says the same as the bytes compiled in. */
static void test_default_file_matches(void **state)
{
    char path[4096];
    struct fixtures *fx = NULL;
    struct fixture_error err;

    (void)state;
    source_path(path, sizeof path, "fixtures/ai-nexus.yaml");
    if (fixtures_load_file(path, &fx, &err) != 0)
        fail_msg("%s:%d:%d: %s", err.file, err.line, err.column, err.message);
    expect_default(fx);
    fixtures_free(fx);
}

/* One fixtures_parse_money() input and its expected outcome. */
struct money_case {
    const char *text;
    int rc;
    int64_t pico;
};

/* Exact decimal amounts, and every way an amount may be refused. */
static void test_parse_money(void **state)
{
    static const struct money_case cases[] = {
        {"42.50", 0, INT64_C(42500000000000)},
        {"0", 0, 0},
        {"0.0", 0, 0},
        {"5", 0, INT64_C(5000000000000)},
        {"1.10", 0, INT64_C(1100000000000)},
        {"0.000000000001", 0, 1},
        {"0.000001", 0, 1000000},
        {"157.30", 0, INT64_C(157300000000000)},
        {"123456.789012345678", 0, INT64_C(123456789012345678)},
        {"8999999.999999999999", 0, INT64_C(8999999999999999999)},
        {"9000000", 0, FX_MONEY_MAX},
        {"9000000.000000000000", 0, FX_MONEY_MAX},
        {"9000000.000000000001", -1, 0},
        {"9000001", -1, 0},
        {"9223372036854775807", -1, 0},
        {"18446744073709551617", -1, 0},
        {"99999999999999999999999999999999", -1, 0},
        {"1.0000000000001", -1, 0},
        {"0.0000000000000", -1, 0},
        {"-1", -1, 0},
        {"-0", -1, 0},
        {"+1", -1, 0},
        {"", -1, 0},
        {"abc", -1, 0},
        {"1e3", -1, 0},
        {"1E3", -1, 0},
        {"0x10", -1, 0},
        {"01", -1, 0},
        {"1.", -1, 0},
        {".5", -1, 0},
        {"1.2.3", -1, 0},
        {" 1", -1, 0},
        {"1 ", -1, 0},
        {"1,5", -1, 0},
        {"1_000", -1, 0},
        {"inf", -1, 0},
        {"NaN", -1, 0},
    };
    size_t i;
    int64_t v;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        v = -7;
        if (fixtures_parse_money(cases[i].text, &v) != cases[i].rc)
            fail_msg("'%s': expected rc %d", cases[i].text, cases[i].rc);
        /* On failure the output is left alone. */
        if (v != (cases[i].rc == 0 ? cases[i].pico : -7))
            fail_msg("'%s': got %lld", cases[i].text, (long long)v);
    }
    assert_int_equal(fixtures_parse_money(NULL, &v), -1);
}

/* One error case: the load fails with the exact position and message. */
static void test_error_case(void **state)
{
    const struct error_case *c = *state;
    static struct fixtures sentinel;
    struct fixtures *fx = &sentinel; /* the loader must reset it to NULL */
    struct fixture_error err;

    assert_int_equal(
        fixtures_load_buffer(c->yaml, strlen(c->yaml), "case.yaml", &fx, &err),
        -1);
    assert_null(fx);
    assert_string_equal(err.file, "case.yaml");
    if (err.line != c->line || err.column != c->column ||
        strstr(err.message, c->msg) == NULL)
        fail_msg("%s: got %d:%d: %s; expected %d:%d: ...%s...", c->name,
                 err.line, err.column, err.message, c->line, c->column, c->msg);
    assert_null(strchr(err.message, '\n'));
}

/* Absent optional fields take their documented defaults; keys may come
 * before the plans they use. */
static void test_defaults(void **state)
{
    struct fixtures *fx = NULL;
    struct fixture_error err;
    static const char yaml[] = VERSION1
        "keys:\n  - {key: k, plan: p, balance: 1.5}\n" PLAN_P ONE_MODEL;

    (void)state;
    assert_int_equal(fixtures_load_buffer(yaml, strlen(yaml),
                                          "some/dir/inline.yaml", &fx, &err),
                     0);
    assert_string_equal(fx->name, "inline.yaml");
    assert_string_equal(fx->models[0].owned_by, "ai-nexus");
    assert_int_equal(fx->models[0].price_in, 1000000);
    assert_int_equal(fx->models[0].price_out, 2000000);
    assert_false(fx->models[0].pacing.has_ttft);
    assert_false(fx->models[0].pacing.has_tps);
    assert_int_equal(fx->plans[0].requests_per_minute, 1);
    assert_int_equal(fx->plans[0].tokens_per_minute, 0);
    assert_false(fx->plans[0].pacing.has_ttft);
    assert_int_equal(fx->keys[0].balance, INT64_C(1500000000000));
    assert_int_equal(fx->keys[0].spent, 0);
    assert_int_equal(fx->keys[0].plan, 0);
    fixtures_free(fx);

    /* Without plans and keys the fixture still loads: every key is unknown. */
    fx = load_ok(VERSION1 ONE_MODEL);
    assert_int_equal(fx->nplans, 0);
    assert_int_equal(fx->nkeys, 0);
    assert_null(fixtures_find_key(fx, "k"));
    fixtures_free(fx);
}

/* Pacing records which fields were set, on models and plans alike. */
static void test_pacing(void **state)
{
    struct fixtures *fx;

    (void)state;
    fx = load_ok(VERSION1 "plans:\n"
                          "  slow: {requests_per_minute: 0, stream: "
                          "{time_to_first_token_ms: 0}}\n"
                          "  none: {requests_per_minute: 5, stream: {}}\n"
                          "models:\n"
                          "  - {id: a, created: 1, " PRICE
                          ", stream: {time_to_first_token_ms: 300, "
                          "tokens_per_second: 20}}\n"
                          "  - {id: b, created: 1, " PRICE
                          ", stream: {tokens_per_second: 4294967295}}\n");
    assert_true(fx->models[0].pacing.has_ttft);
    assert_true(fx->models[0].pacing.has_tps);
    assert_int_equal(fx->models[0].pacing.ttft_ms, 300);
    assert_int_equal(fx->models[0].pacing.tokens_per_sec, 20);
    assert_false(fx->models[1].pacing.has_ttft);
    assert_true(fx->models[1].pacing.has_tps);
    assert_int_equal(fx->models[1].pacing.tokens_per_sec, UINT32_MAX);
    /* A value of 0 is still "set": it overrides the model's. */
    assert_true(fx->plans[0].pacing.has_ttft);
    assert_int_equal(fx->plans[0].pacing.ttft_ms, 0);
    assert_false(fx->plans[0].pacing.has_tps);
    assert_int_equal(fx->plans[0].requests_per_minute, 0);
    assert_false(fx->plans[1].pacing.has_ttft);
    assert_false(fx->plans[1].pacing.has_tps);
    fixtures_free(fx);
}

/* Plans stay in file order and keys point at them by index; keys are
 * found by exact text. */
static void test_plans_and_lookup(void **state)
{
    struct fixtures *fx;
    const struct fx_key *k;
    size_t i;

    (void)state;
    fx = load_ok(VERSION1
                 "plans:\n"
                 "  zeta: {requests_per_minute: 1}\n"
                 "  alpha: {requests_per_minute: 2}\n"
                 "  mid: {requests_per_minute: 3, tokens_per_minute: 4}\n"
                 "keys:\n"
                 "  - {key: sk-c, plan: alpha, balance: 3}\n"
                 "  - {key: sk-a, plan: zeta, balance: 1}\n"
                 "  - {key: sk-b, plan: mid, balance: 2, total_spent: 0.25}\n"
                 "models:\n"
                 "  - {id: m2, created: 2, " PRICE "}\n"
                 "  - {id: m1, created: 1, owned_by: lab, " PRICE "}\n");
    assert_int_equal(fx->nplans, 3);
    assert_string_equal(fx->plans[0].name, "zeta");
    assert_string_equal(fx->plans[1].name, "alpha");
    assert_string_equal(fx->plans[2].name, "mid");
    assert_int_equal(fx->plans[2].tokens_per_minute, 4);
    assert_string_equal(plan_of(fx, "sk-a"), "zeta");
    assert_string_equal(plan_of(fx, "sk-b"), "mid");
    assert_string_equal(plan_of(fx, "sk-c"), "alpha");
    k = fixtures_find_key(fx, "sk-b");
    assert_int_equal(k->balance, 2 * PICO);
    assert_int_equal(k->spent, PICO / 4);
    assert_null(fixtures_find_key(fx, "sk-"));
    assert_null(fixtures_find_key(fx, "sk-bb"));
    assert_null(fixtures_find_key(fx, ""));
    assert_null(fixtures_find_key(fx, NULL));
    assert_null(fixtures_find_key(NULL, "sk-a"));
    /* Every key is found through the lookup, whatever order it is kept in. */
    for (i = 0; i < fx->nkeys; i++)
        assert_ptr_equal(fixtures_find_key(fx, fx->keys[i].key), &fx->keys[i]);
    /* Models keep file order, for GET /v1/models. */
    assert_string_equal(fx->models[0].id, "m2");
    assert_string_equal(fx->models[1].id, "m1");
    assert_string_equal(fixtures_find_model(fx, "m1")->owned_by, "lab");
    assert_null(fixtures_find_model(fx, "m"));
    assert_null(fixtures_find_model(fx, NULL));
    assert_null(fixtures_find_model(NULL, "m1"));
    fixtures_free(fx);
}

/* Writes text to a new temporary file and puts its name in path. */
static void write_temp(char *path, size_t size, const char *text)
{
    int fd;
    size_t len = strlen(text);

    assert_true(size > sizeof "/tmp/nexus-fixture-XXXXXX");
    memcpy(path, "/tmp/nexus-fixture-XXXXXX",
           sizeof "/tmp/nexus-fixture-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

/* A fixture on disk loads; errors in it name the path. */
static void test_load_file(void **state)
{
    static struct fixtures sentinel;
    char path[64];
    const char *base;
    struct fixtures *fx = NULL;
    struct fixture_error err;

    (void)state;
    write_temp(path, sizeof path,
               VERSION1 PLAN_P
               "keys:\n  - {key: sk-disk, plan: p, balance: 0.000000000001}\n"
               "models:\n  - {id: disk, created: 7, price: "
               "{input_per_million: 0.000001, output_per_million: 10000}}\n");
    assert_int_equal(fixtures_load_file(path, &fx, &err), 0);
    base = strrchr(path, '/') + 1;
    assert_string_equal(fx->name, base);
    assert_int_equal(fx->models[0].created, 7);
    assert_int_equal(fx->models[0].price_in, 1);
    assert_int_equal(fx->models[0].price_out, INT64_C(10000000000));
    assert_int_equal(fixtures_find_key(fx, "sk-disk")->balance, 1);
    fixtures_free(fx);
    assert_int_equal(unlink(path), 0);

    write_temp(path, sizeof path, VERSION1 "models:\n  - {id: x}\n");
    fx = &sentinel;
    assert_int_equal(fixtures_load_file(path, &fx, &err), -1);
    assert_null(fx);
    assert_string_equal(err.file, path);
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 5);
    assert_string_equal(err.message, "missing required key 'created' in model");
    assert_int_equal(unlink(path), 0);
}

/* A missing file is reported without a position. */
static void test_load_file_missing(void **state)
{
    struct fixtures *fx = NULL;
    struct fixture_error err;

    (void)state;
    assert_int_equal(
        fixtures_load_file("/nonexistent/nexus/none.yaml", &fx, &err), -1);
    assert_null(fx);
    assert_string_equal(err.file, "/nonexistent/nexus/none.yaml");
    assert_int_equal(err.line, 0);
    assert_int_equal(err.column, 0);
    assert_string_equal(err.message, "cannot open: No such file or directory");
    /* A directory is read for its fixture files; one without any fails. */
    assert_int_equal(fixtures_load_file("/proc/self", &fx, &err), -1);
    assert_int_equal(err.line, 0);
    assert_string_equal(err.message,
                        "no *.yaml or *.yml file in the directory");
}

/* Input past the 16 MiB cap is refused before parsing. */
static void test_too_large(void **state)
{
    size_t len = (size_t)16 * 1024 * 1024 + 1;
    char *big = malloc(len);
    struct fixtures *fx = NULL;
    struct fixture_error err;

    (void)state;
    assert_non_null(big);
    memset(big, '#', len);
    assert_int_equal(fixtures_load_buffer(big, len, "big.yaml", &fx, &err), -1);
    assert_int_equal(err.line, 0);
    assert_string_equal(err.message, "the fixture is larger than 16 MiB");
    free(big);
}

/* Bad arguments fail cleanly; errors may be ignored; free(NULL) is fine. */
static void test_arguments(void **state)
{
    struct fixtures *fx = NULL;
    struct fixture_error err;
    char name[400];

    (void)state;
    fixtures_free(NULL);
    assert_int_equal(fixtures_load_buffer("x", 1, "a", NULL, &err), -1);
    assert_int_equal(fixtures_load_file(NULL, &fx, &err), -1);
    assert_int_equal(fixtures_load_buffer("", 0, NULL, &fx, NULL), -1);
    assert_null(fx);
    assert_int_equal(fixtures_load_buffer(NULL, 0, NULL, &fx, &err), -1);
    assert_string_equal(err.file, "(buffer)");
    assert_string_equal(err.message, "the fixture is empty; it needs at "
                                     "least 'version: 1' and 'models'");
    /* A long name is cut to fit, still terminated. */
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    assert_int_equal(fixtures_load_buffer("", 0, name, &fx, &err), -1);
    assert_int_equal(strlen(err.file), sizeof err.file - 1);
}

/* User text in messages is cut short and never breaks the line. */
static void test_message_quoting(void **state)
{
    static const char yaml[] = VERSION1
        "\"k\\x01\\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxx\": 1\n";
    struct fixtures *fx = NULL;
    struct fixture_error err;

    (void)state;
    assert_int_equal(fixtures_load_buffer(yaml, strlen(yaml), "q", &fx, &err),
                     -1);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 1);
    assert_non_null(strstr(err.message, "unknown key 'k??xxxxxxxxxxxxxxxxxx"
                                        "xxxxxxxxxxxxxxxxxxxxxxxxxxx...' in "
                                        "the fixture"));
}

/* The properties the schema allows at a path of object keys and array
 * indices ("$defs", "reply", "oneOf", "0", "properties"), or NULL. */
static json_t *schema_at(json_t *schema, const char *const *path)
{
    json_t *v = schema;
    char *end;

    for (; v != NULL && *path != NULL; path++)
        v = json_is_array(v) ? json_array_get(v, strtoul(*path, &end, 10))
                             : json_object_get(v, *path);
    return v;
}

/* fixtures/schema.json allows in each mapping exactly the keys the
 * loader's tables do (a reply: both of its kinds together). */
static void test_schema_agrees(void **state)
{
    static const struct {
        const char *what;
        const char *path[8];
        const char *path2[8]; /* a second set of properties, or none */
    } maps[] = {
        {"the fixture", {"properties", NULL}, {NULL}},
        {"plan", {"$defs", "plan", "properties", NULL}, {NULL}},
        {"model", {"$defs", "model", "properties", NULL}, {NULL}},
        {"price",
         {"$defs", "model", "properties", "price", "properties", NULL},
         {NULL}},
        {"stream", {"$defs", "stream", "properties", NULL}, {NULL}},
        {"key", {"$defs", "key", "properties", NULL}, {NULL}},
        {"parameters", {"$defs", "parameters", "properties", NULL}, {NULL}},
        {"rate_limits", {"$defs", "rate_limits", "properties", NULL}, {NULL}},
        {"scenario", {"$defs", "scenario", "properties", NULL}, {NULL}},
        {"rule", {"$defs", "rule", "properties", NULL}, {NULL}},
        {"match", {"$defs", "match", "properties", NULL}, {NULL}},
        {"text condition",
         {"$defs", "text_match", "oneOf", "1", "properties", NULL},
         {NULL}},
        {"tool_result",
         {"$defs", "match", "properties", "tool_result", "oneOf", "1",
          "properties", NULL},
         {NULL}},
        {"reply",
         {"$defs", "reply", "oneOf", "0", "properties", NULL},
         {"$defs", "reply", "oneOf", "1", "properties", NULL}},
        {"tool call", {"$defs", "tool_call", "properties", NULL}, {NULL}},
        {"usage", {"$defs", "usage", "properties", NULL}, {NULL}},
        {"error", {"$defs", "error", "properties", NULL}, {NULL}},
        {"fault", {"$defs", "fault", "properties", NULL}, {NULL}},
    };
    const char *names[64];
    char path[4096];
    json_error_t jerr;
    json_t *schema, *props, *props2, *merged;
    size_t i, k, n;

    (void)state;
    source_path(path, sizeof path, "fixtures/schema.json");
    schema = json_load_file(path, 0, &jerr);
    if (schema == NULL)
        fail_msg("%s: %s", path, jerr.text);
    for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
        n = fixtures_language_keys(maps[i].what, names, 64);
        props = schema_at(schema, maps[i].path);
        props2 = maps[i].path2[0] ? schema_at(schema, maps[i].path2) : NULL;
        if (n == 0 || !json_is_object(props))
            fail_msg("%s: no such mapping in the loader or the schema",
                     maps[i].what);
        merged = json_deep_copy(props);
        if (props2 != NULL)
            json_object_update(merged, props2);
        for (k = 0; k < n; k++)
            if (json_object_get(merged, names[k]) == NULL)
                fail_msg("%s: the schema lacks '%s'", maps[i].what, names[k]);
        if (json_object_size(merged) != n)
            fail_msg("%s: the schema has %zu keys, the loader %zu",
                     maps[i].what, json_object_size(merged), n);
        json_decref(merged);
    }
    assert_int_equal(fixtures_language_keys("nothing", names, 64), 0);
    json_decref(schema);
}

/* The fuzz dictionary (fuzz/fixtures.dict) holds every key of every
 * mapping the loader's tables define, as a line "KEY:", so that the
 * fuzzer writes each one: a key added to a table fails here until it is
 * added there too. */
static void test_fuzz_dictionary_has_every_key(void **state)
{
    const char *names[64], *what;
    char path[4096], line[128], missing[2048] = "";
    size_t i, k, n, used = 0;
    FILE *f;
    char *dict = NULL;
    size_t dict_len = 0;
    int w;

    (void)state;
    source_path(path, sizeof path, "fuzz/fixtures.dict");
    f = fopen(path, "r");
    assert_non_null(f);
    dict = calloc(1, 1 << 16);
    assert_non_null(dict);
    dict_len = fread(dict, 1, (1 << 16) - 1, f);
    fclose(f);
    assert_true(dict_len > 0 && dict_len < (1 << 16) - 1);
    for (i = 0; (what = fixtures_language_mapping(i)) != NULL; i++) {
        n = fixtures_language_keys(what, names, 64);
        assert_true(n > 0 && n <= 64);
        for (k = 0; k < n; k++) {
            snprintf(line, sizeof line, "\n\"%s:\"\n", names[k]);
            if (strstr(dict, line) != NULL)
                continue;
            w = snprintf(missing + used, sizeof missing - used, "\"%s:\"\n",
                         names[k]);
            if (w > 0 && (size_t)w < sizeof missing - used)
                used += (size_t)w;
        }
    }
    assert_true(i >= 18);
    if (used > 0)
        fail_msg("fuzz/fixtures.dict lacks these keys of the language; add "
                 "the lines:\n%s",
                 missing);
    free(dict);
}

/* A version 2 fixture: settings, the model's reasoning and parameters,
 * rules compiled in order (an unnamed one named after its place),
 * scenarios with their states, and the defaults of what it leaves out. */
static void test_v2_loads(void **state)
{
    static const char yaml[] =
        VERSION2 "models:\n"
                 "  - {id: r, created: 1, reasoning: true, " PRICE ",\n"
                 "     parameters: {unknown: ignore, accept: {top_k: "
                 "integer}}}\n"
                 "parameters: {accept: {thinking: object, x: any}}\n"
                 "scenarios: {flaky: {initial: failing}}\n"
                 "rules:\n"
                 "  - name: first\n"
                 "    scenario: flaky\n"
                 "    state: failing\n"
                 "    call: 2\n"
                 "    then: ok\n"
                 "    reply: {status: 500, retry_after_ms: 20}\n"
                 "  - scenario: flaky\n"
                 "    state: ok\n"
                 "    reply:\n"
                 "      content: \"line one\\nline two\"\n"
                 "      tool_calls:\n"
                 "        - {name: f, arguments: {a: [1, true, null]}}\n"
                 "        - {id: call_x, name: g, arguments: '{}'}\n"
                 "      usage: {prompt_tokens: 5, completion_tokens: 7}\n"
                 "      stream: {tokens_per_second: 10, jitter_ms: 5, seed: "
                 "9}\n"
                 "  - reply:\n"
                 "      deltas:\n"
                 "        - {content: Hel}\n"
                 "        - {content: lo, reasoning_content: hm}\n"
                 "        - {tool_calls: [{index: 0, id: c1, function: "
                 "{name: f, arguments: '{\"a\"'}}]}\n"
                 "        - {tool_calls: [{index: 0, function: {arguments: "
                 "': 1}'}}]}\n";
    struct fixtures *fx = NULL;
    struct fixture_error err;
    const struct rule *r;
    struct scenarios *sc;
    size_t st;
    uint64_t calls;

    (void)state;
    if (fixtures_load_buffer(yaml, strlen(yaml), "dir/case.yaml", &fx, &err) !=
        0)
        fail_msg("%d:%d: %s", err.line, err.column, err.message);
    assert_true(fx->models[0].reasoning);
    assert_true(fx->models[0].params.set);
    assert_int_equal(fx->models[0].params.unknown, FX_UNKNOWN_IGNORE);
    assert_int_equal(fx->models[0].params.naccept, 1);
    assert_string_equal(fx->models[0].params.accept[0].name, "top_k");
    assert_int_equal(fx->models[0].params.accept[0].type, FX_TYPE_INTEGER);
    assert_ptr_equal(fixtures_params_for(fx, &fx->models[0]),
                     &fx->models[0].params);
    assert_ptr_equal(fixtures_params_for(fx, NULL), &fx->params);
    assert_int_equal(fx->params.unknown, FX_UNKNOWN_REJECT);
    assert_int_equal(fx->params.naccept, 2);
    assert_int_equal(fx->params.accept[1].type, FX_TYPE_ANY);
    /* Defaults: a minute, and chat completions only. */
    assert_int_equal(fx->window_ms, 60000);
    assert_true(fixtures_rate_counted(fx, "POST", "/v1/chat/completions"));
    assert_false(fixtures_rate_counted(fx, "GET", "/v1/models"));
    assert_false(fixtures_rate_counted(fx, "GET", "/v1/balance"));
    assert_int_equal(rules_count(fx->rules), 3);
    r = rules_get(fx->rules, 0);
    assert_string_equal(r->name, "first");
    assert_int_equal(r->answer.kind, RULE_STATUS);
    assert_int_equal(r->answer.status, 500);
    assert_true(r->answer.has_retry_after);
    assert_int_equal(r->answer.retry_after_ms, 20);
    assert_int_equal(r->guard.call, 2);
    sc = rules_scenarios(fx->rules);
    assert_int_equal(scenarios_count(sc), 1);
    assert_string_equal(scenarios_state_name(sc, 0, scenarios_initial(sc, 0)),
                        "failing");
    assert_int_equal(r->guard.state, scenarios_initial(sc, 0));
    assert_string_equal(scenarios_state_name(sc, 0, r->guard.then), "ok");
    scenarios_current(sc, 0, &st, &calls);
    assert_int_equal(st, scenarios_initial(sc, 0));
    assert_int_equal(calls, 0);
    r = rules_get(fx->rules, 1);
    assert_string_equal(r->name, "case.yaml:14");
    assert_int_equal(r->answer.kind, RULE_COMPLETION);
    assert_string_equal(r->answer.content, "line one\nline two");
    assert_int_equal(r->answer.ncalls, 2);
    assert_null(r->answer.calls[0].id);
    assert_string_equal(r->answer.calls[0].arguments, "{\"a\":[1,true,null]}");
    assert_string_equal(r->answer.calls[1].id, "call_x");
    assert_string_equal(r->answer.calls[1].arguments, "{}");
    assert_true(r->answer.has_usage);
    assert_int_equal(r->answer.usage.completion_tokens, 7);
    assert_true(r->answer.pacing.has_tps && r->answer.pacing.has_jitter &&
                r->answer.pacing.has_seed && !r->answer.pacing.has_ttft);
    assert_int_equal(r->answer.pacing.seed, 9);
    assert_true(r->answer.rate_limited && r->answer.billed);
    /* Deltas add up to the message a non-streamed request gets. */
    r = rules_get(fx->rules, 2);
    assert_int_equal(json_array_size(r->answer.deltas), 4);
    assert_string_equal(r->answer.content, "Hello");
    assert_string_equal(r->answer.reasoning, "hm");
    assert_int_equal(r->answer.ncalls, 1);
    assert_string_equal(r->answer.calls[0].id, "c1");
    assert_string_equal(r->answer.calls[0].name, "f");
    assert_string_equal(r->answer.calls[0].arguments, "{\"a\": 1}");
    fixtures_free(fx);
}

/* A version 1 file loads as before, with an empty rule set and the
 * default settings. */
static void test_v1_has_no_rules(void **state)
{
    struct fixtures *fx = NULL;
    struct fixture_error err;
    static const char yaml[] = VERSION1 ONE_MODEL;

    (void)state;
    assert_int_equal(
        fixtures_load_buffer(yaml, strlen(yaml), "v1.yaml", &fx, &err), 0);
    assert_non_null(fx->rules);
    assert_int_equal(rules_count(fx->rules), 0);
    assert_int_equal(fx->window_ms, 60000);
    assert_false(fx->params.set);
    fixtures_free(fx);
}

/* Every file in fixtures/examples/ is a valid fixture; slow-stream.yaml
 * holds the pacing it documents. */
static void test_examples(void **state)
{
    char dir[4096], path[4096];
    DIR *d;
    const struct dirent *e;
    struct fixtures *fx;
    struct fixture_error err;
    size_t len, loaded = 0;
    const struct fx_model *m;

    (void)state;
    source_path(dir, sizeof dir, "fixtures/examples");
    d = opendir(dir);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        assert_true((size_t)snprintf(path, sizeof path, "%s/%s", dir,
                                     e->d_name) < sizeof path);
        fx = NULL;
        if (fixtures_load_file(path, &fx, &err) != 0)
            fail_msg("%s:%d:%d: %s", err.file, err.line, err.column,
                     err.message);
        fixtures_free(fx);
        loaded++;
    }
    closedir(d);
    assert_true(loaded >= 2);

    source_path(path, sizeof path, "fixtures/examples/slow-stream.yaml");
    assert_int_equal(fixtures_load_file(path, &fx, &err), 0);
    assert_string_equal(fx->name, "slow-stream");
    m = fixtures_find_model(fx, "slow-model");
    assert_non_null(m);
    assert_true(m->pacing.has_ttft && m->pacing.has_tps);
    assert_int_equal(m->pacing.ttft_ms, 300);
    assert_int_equal(m->pacing.tokens_per_sec, 20);
    assert_int_equal(m->price_in, 500000);
    assert_int_equal(m->price_out, 1500000);
    assert_string_equal(plan_of(fx, "sk-slow-turbo"), "turbo");
    assert_true(fx->plans[1].pacing.has_tps);
    assert_false(fx->plans[1].pacing.has_ttft);
    assert_int_equal(fx->plans[1].pacing.tokens_per_sec, 200);
    assert_int_equal(fixtures_find_key(fx, "sk-slow-turbo")->balance,
                     INT64_C(25750000000000));
    assert_int_equal(fixtures_find_key(fx, "sk-slow-turbo")->spent,
                     INT64_C(4250000000000));
    fixtures_free(fx);
}

#define NCASES (sizeof error_cases / sizeof error_cases[0])

/* Runs the fixed tests, then every error case as a test of its own. */
int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_default_loads),
        cmocka_unit_test(test_default_file_matches),
        cmocka_unit_test(test_parse_money),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_pacing),
        cmocka_unit_test(test_plans_and_lookup),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_load_file_missing),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_message_quoting),
        cmocka_unit_test(test_examples),
        cmocka_unit_test(test_v2_loads),
        cmocka_unit_test(test_schema_agrees),
        cmocka_unit_test(test_fuzz_dictionary_has_every_key),
        cmocka_unit_test(test_v1_has_no_rules),
    };
    /* Each error case runs as its own test, named after it. */
    struct CMUnitTest tests[sizeof fixed / sizeof fixed[0] + NCASES];
    size_t i, n = sizeof fixed / sizeof fixed[0];

    memcpy(tests, fixed, sizeof fixed);
    for (i = 0; i < NCASES; i++) {
        memset(&tests[n + i], 0, sizeof tests[n + i]);
        tests[n + i].name = error_cases[i].name;
        tests[n + i].test_func = test_error_case;
        tests[n + i].initial_state = (void *)&error_cases[i];
    }
    return cmocka_run_group_tests_name("fixtures", tests, NULL, NULL);
}
