/* impact: the catalogue of what a deviation does to real clients, each
 * outcome either measured (docs/client-impact.md) or read from public SDK
 * source (docs/client-behaviour.md). */
#include "impact.h"

#include <string.h>

/* The public sources the "from source" outcomes cite, at the versions
 * docs/client-behaviour.md reads. */
#define PY_STREAMING "openai-python 3.3.1 src/openai/_streaming.py"
#define PY_RESPONSE "openai-python 3.3.1 src/openai/_response.py"
#define PY_HELPER                                                              \
    "openai-python 3.3.1 src/openai/lib/streaming/chat/_completions.py"
#define PY_EXCEPTIONS "openai-python 3.3.1 src/openai/_exceptions.py"
#define GO_SSE "openai-go 3.52.0 packages/ssestream/ssestream.go"
#define GO_REQUEST "openai-go 3.52.0 internal/requestconfig/requestconfig.go"
#define JAVA_SSE                                                               \
    "openai-java 4.52.0 openai-java-core/src/main/kotlin/com/openai/core/"     \
    "handlers/SseHandler.kt"
#define JAVA_STREAM                                                            \
    "openai-java 4.52.0 openai-java-core/src/main/kotlin/com/openai/core/"     \
    "handlers/StreamHandler.kt"
#define JAVA_JSON                                                              \
    "openai-java 4.52.0 openai-java-core/src/main/kotlin/com/openai/core/"     \
    "handlers/JsonHandler.kt"

/* What the AI SDK says of a completion its schema refuses. */
#define AISDK_INVALID "throws APICallError: Invalid JSON response"
/* What the AI SDK says of a chunk its schema refuses. */
#define AISDK_CHUNK "throws AI_TypeValidationError on the chunk"

static const struct impact catalogue[IMPACT_COUNT] = {
    [IMPACT_MODELS_5XX] =
        {"models.list/5xx",
         "models.list",
         NULL,
         {{"openai", "retries twice, then throws InternalServerError", NULL}}},
    [IMPACT_MODELS_NOT_HTTP] =
        {"models.list/not-http",
         "models.list",
         NULL,
         {{"openai", "retries twice, then throws APIConnectionError", NULL},
          {"ai-sdk", "retries twice, then throws RetryError", NULL},
          {"langchain", "retries twice, then throws APIConnectionError",
           NULL}}},
    [IMPACT_MODELS_NOT_LIST] = {"models.list/not-a-list",
                                "models.list",
                                NULL,
                                {{"openai",
                                  "shows an empty model list instead of an "
                                  "error",
                                  NULL}}},
    [IMPACT_MODELS_ID] = {"models.items/id",
                          "models.items",
                          "a model without an id cannot be named in a "
                          "request",
                          {{NULL, NULL, NULL}}},
    [IMPACT_MODELS_CHOSEN] = {"models.chosen/unlisted",
                              "models.chosen",
                              "applications that offer the listed models "
                              "never offer this one",
                              {{NULL, NULL, NULL}}},
    [IMPACT_MODELS_RETRIEVE] = {"models.retrieve/wrong",
                                "models.retrieve",
                                "the application gets another answer than "
                                "the model it asked for",
                                {{NULL, NULL, NULL}}},
    [IMPACT_CHAT_5XX] =
        {"chat.status/5xx",
         "chat.status",
         NULL,
         {{"openai", "retries twice, then throws InternalServerError", NULL},
          {"ai-sdk", "retries twice, then throws RetryError", NULL},
          {"langchain", "retries twice, then throws InternalServerError",
           NULL}}},
    [IMPACT_CHAT_TIMEOUT] = {"chat.status/timeout",
                             "chat.status",
                             NULL,
                             {{"openai", "hangs until its own timeout", NULL},
                              {"ai-sdk", "hangs until its own timeout", NULL},
                              {"langchain", "hangs until its own timeout",
                               NULL}}},
    [IMPACT_CHAT_NOT_JSON_LABEL] =
        {"chat.status/not-json-label",
         "chat.status",
         NULL,
         {{"openai",
           "returns the body as text: its user sees no content, "
           "finish_reason or usage",
           NULL},
          {"langchain",
           "throws TypeError: Cannot read properties of undefined (reading "
           "'message')",
           NULL}}},
    [IMPACT_CHAT_NOT_JSON] =
        {"chat.status/not-json",
         "chat.status",
         NULL,
         {{"ai-sdk", AISDK_INVALID, NULL},
          {"langchain",
           "throws TypeError: Cannot read properties of undefined (reading "
           "'message')",
           NULL},
          {"openai-python",
           "returns a str ('str' object has no attribute 'choices')",
           PY_RESPONSE},
          {"openai-go", "fails with 'expected destination type'", GO_REQUEST},
          {"openai-java", "throws OpenAIInvalidDataException", JAVA_JSON}}},
    [IMPACT_CHAT_ID] = {"chat.id/type",
                        "chat.id",
                        NULL,
                        {{"ai-sdk", AISDK_INVALID, NULL}}},
    [IMPACT_CHAT_CREATED] = {"chat.created/type",
                             "chat.created",
                             NULL,
                             {{"ai-sdk", AISDK_INVALID, NULL}}},
    [IMPACT_CHAT_MODEL] = {"chat.model/type",
                           "chat.model",
                           NULL,
                           {{"ai-sdk", AISDK_INVALID, NULL}}},
    [IMPACT_CHAT_CHOICES] =
        {"chat.choices/shape",
         "chat.choices",
         NULL,
         {{"ai-sdk", AISDK_INVALID, NULL},
          {"langchain",
           "throws TypeError: Cannot read properties of undefined (reading "
           "'message')",
           NULL}}},
    [IMPACT_CHAT_CHOICES_EMPTY] =
        {"chat.choices/empty",
         "chat.choices",
         NULL,
         {{"ai-sdk",
           "throws InvalidResponseDataError: Response did not contain any "
           "choices",
           NULL},
          {"langchain",
           "throws TypeError: Cannot read properties of undefined (reading "
           "'message')",
           NULL}}},
    [IMPACT_CHAT_ROLE] =
        {"chat.message/role",
         "chat.message",
         NULL,
         {{"ai-sdk", AISDK_INVALID, NULL},
          {"langchain", "loses the usage (no usage_metadata on the message)",
           NULL}}},
    [IMPACT_CHAT_ROLE_MISSING] = {"chat.message/role-missing",
                                  "chat.message",
                                  NULL,
                                  {{"langchain",
                                    "loses the usage (no usage_metadata on "
                                    "the message)",
                                    NULL}}},
    [IMPACT_CHAT_TOOL_CALLS] =
        {"chat.message/tool-calls",
         "chat.message",
         NULL,
         {{"openai",
           "hands its user an object where code maps an array (TypeError)",
           NULL},
          {"ai-sdk", AISDK_INVALID, NULL},
          {"langchain",
           "throws TypeError: (rawToolCalls ?? []) is not iterable", NULL}}},
    [IMPACT_CHAT_CONTENT] = {"chat.message/content",
                             "chat.message",
                             NULL,
                             {{"openai",
                               "hands its user content that is not text", NULL},
                              {"ai-sdk", AISDK_INVALID, NULL}}},
    [IMPACT_CHAT_USAGE_TYPE] = {"chat.field-types/usage",
                                "chat.field-types",
                                NULL,
                                {{"ai-sdk", AISDK_INVALID, NULL}}},
    [IMPACT_CHAT_REQUEST_ID] =
        {"chat.request-id/missing",
         "chat.request-id",
         NULL,
         {{"openai-python", "leaves err.request_id empty", PY_EXCEPTIONS}}},
    [IMPACT_STREAM_5XX] =
        {"stream.status/5xx",
         "stream.status",
         NULL,
         {{"openai", "retries twice, then throws InternalServerError", NULL},
          {"ai-sdk", "retries twice, then throws RetryError", NULL},
          {"langchain", "retries twice, then throws InternalServerError",
           NULL}}},
    [IMPACT_STREAM_ENDLESS] =
        {"stream.status/endless",
         "stream.status",
         NULL,
         {{"openai", "hangs: the stream never ends", NULL},
          {"ai-sdk", "hangs: the stream never ends", NULL},
          {"langchain", "hangs: the stream never ends", NULL}}},
    [IMPACT_STREAM_NO_EVENTS] =
        {"stream.status/no-events",
         "stream.status",
         NULL,
         {{"openai", "yields no chunk: its user sees no content", NULL},
          {"ai-sdk",
           "throws InvalidResponseDataError: Response stream ended without "
           "a finish reason",
           NULL},
          {"langchain", "shows no content (the text \"null\")", NULL}}},
    [IMPACT_STREAM_DROPPED] =
        {"stream.framing/dropped",
         "stream.framing",
         NULL,
         {{"openai", "drops the last event: here its finish_reason is lost",
           NULL},
          {"ai-sdk",
           "throws InvalidResponseDataError when the dropped event held the "
           "finish_reason",
           NULL},
          {"langchain", "drops the last event: here its finish_reason is lost",
           NULL}}},
    [IMPACT_STREAM_UTF8] = {"stream.utf8/invalid",
                            "stream.utf8",
                            NULL,
                            {{"openai-python",
                              "raises UnicodeDecodeError and ends the stream",
                              PY_STREAMING}}},
    [IMPACT_STREAM_CR] = {"stream.line-endings/cr",
                          "stream.line-endings",
                          NULL,
                          {{"openai-go",
                            "yields no event from lines that end in a bare CR",
                            GO_SSE}}},
    [IMPACT_STREAM_MIXED] =
        {"stream.line-endings/mixed",
         "stream.line-endings",
         NULL,
         {{"openai-python",
           "up to 3.3.1 holds an event whose line ends are mixed until a "
           "later blank line",
           PY_STREAMING}}},
    [IMPACT_STREAM_EVENT_ONLY] =
        {"stream.sdk-hazards/event-only",
         "stream.sdk-hazards",
         NULL,
         {{"openai", "throws SyntaxError: Unexpected end of JSON input", NULL},
          {"langchain", "throws SyntaxError: Unexpected end of JSON input",
           NULL},
          {"openai-python", "raises JSONDecodeError on the block",
           PY_STREAMING}}},
    [IMPACT_STREAM_META_ONLY] = {"stream.sdk-hazards/meta-only",
                                 "stream.sdk-hazards",
                                 NULL,
                                 {{"openai-python",
                                   "raises JSONDecodeError on each such block",
                                   PY_STREAMING}}},
    [IMPACT_STREAM_BOM] =
        {"stream.sdk-hazards/bom",
         "stream.sdk-hazards",
         NULL,
         {{"openai-python", "loses the first event", PY_STREAMING},
          {"openai-go", "loses the first event", GO_SSE},
          {"openai-java", "loses the first event", JAVA_SSE}}},
    [IMPACT_STREAM_ID] = {"stream.sdk-hazards/id",
                          "stream.sdk-hazards",
                          NULL,
                          {{"openai-python",
                            "raises JSONDecodeError, after an id:, at any "
                            "blank line that ends no data (after a comment, "
                            "or an extra one)",
                            PY_STREAMING}}},
    [IMPACT_STREAM_NOT_JSON] = {"stream.json/not-json",
                                "stream.json",
                                NULL,
                                {{"openai", "throws SyntaxError", NULL},
                                 {"ai-sdk", "throws JSONParseError", NULL},
                                 {"langchain", "throws SyntaxError", NULL},
                                 {"openai-python", "raises JSONDecodeError",
                                  PY_STREAMING}}},
    [IMPACT_STREAM_NOT_OBJECT] =
        {"stream.json/not-object",
         "stream.json",
         NULL,
         {{"ai-sdk", AISDK_CHUNK, NULL},
          {"langchain",
           "throws TypeError: Cannot read properties of null (reading "
           "'usage')",
           NULL}}},
    [IMPACT_STREAM_ERROR_KEY] =
        {"stream.no-error-key/present",
         "stream.no-error-key",
         NULL,
         {{"ai-sdk", "turns the chunk into an error part: the stream fails",
           NULL},
          {"openai-go", "ends the stream with a StreamError", GO_SSE},
          {"openai-java", "throws SseException", JAVA_STREAM}}},
    [IMPACT_STREAM_CHUNK_TYPES] = {"stream.chunk-shape/types",
                                   "stream.chunk-shape",
                                   NULL,
                                   {{"ai-sdk", AISDK_CHUNK, NULL}}},
    [IMPACT_STREAM_DELTA_CONTENT] = {"stream.chunk-shape/delta-content",
                                     "stream.chunk-shape",
                                     NULL,
                                     {{"ai-sdk", AISDK_CHUNK, NULL},
                                      {"langchain",
                                       "drops that delta's content", NULL}}},
    [IMPACT_STREAM_DELTA_TOOL_CALLS] =
        {"stream.chunk-shape/delta-tool-calls",
         "stream.chunk-shape",
         NULL,
         {{"openai",
           "hands its user an object where code iterates an array "
           "(TypeError)",
           NULL},
          {"ai-sdk", AISDK_CHUNK, NULL}}},
    [IMPACT_STREAM_ROLE] = {"stream.first-role/role",
                            "stream.first-role",
                            NULL,
                            {{"ai-sdk", AISDK_CHUNK, NULL}}},
    [IMPACT_STREAM_NO_FINISH] = {"stream.finish-once/missing",
                                 "stream.finish-once",
                                 NULL,
                                 {{"ai-sdk",
                                   "throws InvalidResponseDataError: Response "
                                   "stream ended without a finish reason",
                                   NULL}}},
    [IMPACT_STREAM_FINISH_TWICE] = {"stream.finish-once/twice",
                                    "stream.finish-once",
                                    NULL,
                                    {{"langchain",
                                      "shows the finish_reasons run together "
                                      "(\"stopstop\")",
                                      NULL}}},
    [IMPACT_STREAM_DONE_MALFORMED] =
        {"stream.done-present/malformed",
         "stream.done-present",
         NULL,
         {{"openai", "throws SyntaxError", NULL},
          {"ai-sdk", "throws JSONParseError", NULL},
          {"langchain", "throws SyntaxError", NULL}}},
    [IMPACT_STREAM_AFTER_DONE] = {"stream.done-last/event",
                                  "stream.done-last",
                                  NULL,
                                  {{"ai-sdk",
                                    "appends the event after [DONE] to the "
                                    "text its user sees",
                                    NULL}}},
    [IMPACT_STREAM_HELD] =
        {"stream.closes-after-done/held",
         "stream.closes-after-done",
         NULL,
         {{"openai", "waits until the server closes the connection", NULL},
          {"ai-sdk", "waits until the server closes the connection", NULL},
          {"langchain", "waits until the server closes the connection", NULL},
          {"openai-java", "reads on to the end, up to its 10-minute timeout",
           JAVA_SSE}}},
    [IMPACT_STREAM_USAGE_TYPE] = {"stream.usage-null/type",
                                  "stream.usage-null",
                                  NULL,
                                  {{"ai-sdk", AISDK_CHUNK, NULL}}},
    [IMPACT_STREAM_NO_USAGE] = {"stream.usage-chunk/missing",
                                "stream.usage-chunk",
                                "streamed requests cannot be counted or "
                                "billed",
                                {{NULL, NULL, NULL}}},
    [IMPACT_USAGE_MISSING] = {"usage.present/missing",
                              "usage.present",
                              "clients cannot count or bill tokens",
                              {{NULL, NULL, NULL}}},
    [IMPACT_USAGE_TOTAL] = {"usage.total/sum",
                            "usage.total",
                            "the bill and the usage clients show disagree",
                            {{"ai-sdk",
                              "shows prompt + completion as the total, not "
                              "the server's total_tokens",
                              NULL}}},
    [IMPACT_USAGE_MAX_TOKENS] = {"usage.max-tokens/over",
                                 "usage.max-tokens",
                                 "clients pay for tokens they capped",
                                 {{NULL, NULL, NULL}}},
    [IMPACT_USAGE_LENGTH] = {"usage.length/other",
                             "usage.length",
                             NULL,
                             {{"openai-python",
                               "parse helpers raise LengthFinishReasonError "
                               "only on \"length\", so a cut reply passes as "
                               "whole",
                               PY_HELPER}}},
    [IMPACT_USAGE_COUNT] = {"usage.prompt-grows/flat",
                            "usage.prompt-grows",
                            "the token count, and so the bill, ignores the "
                            "prompt",
                            {{NULL, NULL, NULL}}},
    [IMPACT_USAGE_STREAM] = {"usage.stream-equals/differ",
                             "usage.stream-equals",
                             "a streamed request is counted differently from "
                             "the same request not streamed",
                             {{NULL, NULL, NULL}}},
    [IMPACT_PARAMS_ACCEPTED] = {"params/accepted",
                                "params.*",
                                "the application is never told that its "
                                "request was invalid",
                                {{NULL, NULL, NULL}}},
    [IMPACT_PARAMS_422] =
        {"params/422",
         "params.*",
         NULL,
         {{"openai", "throws UnprocessableEntityError, not BadRequestError",
           NULL},
          {"langchain",
           "retries twice, then throws UnprocessableEntityError, not "
           "BadRequestError",
           NULL}}},
    [IMPACT_AUTH_ACCEPTED] = {"auth/accepted",
                              "auth.*",
                              "anyone can spend the account without its key",
                              {{NULL, NULL, NULL}}},
    [IMPACT_AUTH_STATUS] = {"auth/status",
                            "auth.*",
                            "clients raise another error than "
                            "AuthenticationError",
                            {{NULL, NULL, NULL}}},
    [IMPACT_NOTFOUND_400] =
        {"notfound.chat-model/400",
         "notfound.chat-model",
         NULL,
         {{"openai", "throws BadRequestError, not NotFoundError", NULL},
          {"langchain", "throws BadRequestError, not NotFoundError", NULL}}},
    [IMPACT_BILLING_SHAPE] = {"billing.balance-shape/shape",
                              "billing.balance-shape",
                              "balance widgets and budget alerts cannot read "
                              "it",
                              {{NULL, NULL, NULL}}},
    [IMPACT_BILLING_CHARGE] = {"billing.charge/mismatch",
                               "billing.charge",
                               "customers cannot reconcile what they spent",
                               {{NULL, NULL, NULL}}},
    [IMPACT_BILLING_SERVED] = {"billing.insufficient/served",
                               "billing.insufficient",
                               "an account with no money is served",
                               {{NULL, NULL, NULL}}},
    [IMPACT_RATELIMIT_NEVER] = {"ratelimit.429/never",
                                "ratelimit.429",
                                "the documented limit is not enforced",
                                {{NULL, NULL, NULL}}},
    [IMPACT_RETRY_AFTER_MISSING] =
        {"ratelimit.retry-after/missing",
         "ratelimit.retry-after",
         NULL,
         {{"openai",
           "retries after its own 0.5 s and 1 s backoff, while the window is "
           "still closed, then throws RateLimitError",
           NULL},
          {"ai-sdk",
           "retries after its own backoff, while the window is still "
           "closed, then throws RetryError",
           NULL},
          {"langchain", "throws RateLimitError at once, without retrying",
           NULL}}},
    [IMPACT_RETRY_AFTER_MS_ONLY] = {"ratelimit.retry-after/ms-only",
                                    "ratelimit.retry-after",
                                    NULL,
                                    {{"langchain",
                                      "throws RateLimitError at once: it "
                                      "reads Retry-After, not retry-after-ms",
                                      NULL}}},
    [IMPACT_RETRY_AFTER_LONG] =
        {"ratelimit.retry-after-range/long",
         "ratelimit.retry-after-range",
         NULL,
         {{"ai-sdk",
           "does not wait that long: retries twice, then throws "
           "RetryError",
           NULL},
          {"langchain", "throws RateLimitError at once (the delay is too long)",
           NULL}}},
    [IMPACT_RATELIMIT_EARLY] =
        {"ratelimit.headers/early-429",
         "ratelimit.headers",
         NULL,
         {{"openai",
           "waits out the 429's Retry-After on a request it was "
           "told it could make",
           NULL},
          {"ai-sdk",
           "waits out the 429's Retry-After on a request it was "
           "told it could make",
           NULL},
          {"langchain",
           "waits out the 429's Retry-After on a request it was "
           "told it could make",
           NULL}}},
    [IMPACT_STREAM_ERROR_EVENT] =
        {"stream.status/error-event",
         "stream.status",
         NULL,
         {{"openai", "throws APIError, with no status", NULL},
          {"ai-sdk", "yields an error part: the stream fails", NULL},
          {"langchain", "throws APIError, with no status", NULL}}},
    [IMPACT_PARAMS_STREAM_ERROR] =
        {"params.stream-invalid/error-event",
         "params.stream-invalid",
         NULL,
         {{"openai", "throws a bare APIError, not BadRequestError 400", NULL},
          {"ai-sdk", "yields an error part, not APICallError 400", NULL},
          {"langchain", "throws a bare APIError, not BadRequestError 400",
           NULL}}},
    [IMPACT_USAGE_UNCOUNTED] = {"usage.completion-counted/short",
                                "usage.completion-counted",
                                "tokens the reply carries go unbilled and "
                                "uncounted",
                                {{NULL, NULL, NULL}}},
    [IMPACT_TOOLS_IGNORED] = {"tools.forced/ignored",
                              "tools.forced",
                              NULL,
                              {{"ai-sdk",
                                "throws ToolChoiceViolationError from "
                                "generateText",
                                NULL}}},
    [IMPACT_TOOLS_ARGS_OBJECT] =
        {"tools.call/arguments-object",
         "tools.call",
         NULL,
         {{"ai-sdk", AISDK_INVALID, NULL},
          {"langchain",
           "moves the call to invalid_tool_calls: its user sees "
           "no tool call",
           NULL}}},
    [IMPACT_TOOLS_ARGS_TEXT] = {"tools.call/arguments-text",
                                "tools.call",
                                NULL,
                                {{"langchain",
                                  "moves the call to invalid_tool_calls: its "
                                  "user sees no tool call",
                                  NULL}}},
    [IMPACT_TOOLS_STREAM_INDEX] = {"tools.stream/no-index",
                                   "tools.stream",
                                   NULL,
                                   {{"langchain",
                                     "loses the arguments of the call", NULL}}},
    [IMPACT_TOOLS_STREAM_ARGS] = {"tools.stream/arguments",
                                  "tools.stream",
                                  NULL,
                                  {{"langchain",
                                    "moves the call to invalid_tool_calls: "
                                    "its user sees no tool call",
                                    NULL}}},
    [IMPACT_TOOLS_STREAM_FINISH] = {"tools.stream/no-finish",
                                    "tools.stream",
                                    NULL,
                                    {{"ai-sdk",
                                      "throws InvalidResponseDataError: "
                                      "Response stream ended without a finish "
                                      "reason",
                                      NULL}}},
    [IMPACT_FORMAT_JSON] = {"format.json-object/not-json",
                            "format.json-object",
                            NULL,
                            {{"ai-sdk",
                              "throws NoObjectGeneratedError from "
                              "generateText with Output.json()",
                              NULL}}},
};

/* The entry for id, or NULL for IMPACT_NONE (and out of range). */
const struct impact *impact_get(enum impact_id id)
{
    return id > IMPACT_NONE && id < IMPACT_COUNT ? &catalogue[id] : NULL;
}

/* True when im is made for the check called id. */
bool impact_for(const struct impact *im, const char *id)
{
    size_t n = im->check != NULL ? strlen(im->check) : 0;

    if (n >= 2 && strcmp(im->check + n - 2, ".*") == 0)
        return strncmp(id, im->check, n - 1) == 0;
    return im->check != NULL && strcmp(im->check, id) == 0;
}

/* True when client is a column of the measured matrix. */
bool impact_is_measured(const char *client)
{
    return client != NULL &&
           (strcmp(client, "openai") == 0 || strcmp(client, "ai-sdk") == 0 ||
            strcmp(client, "langchain") == 0);
}

/* The name a report gives client. */
const char *impact_client_name(const char *client)
{
    static const char *const names[][2] = {
        {"openai", "openai-node"},
        {"ai-sdk", "the AI SDK"},
        {"langchain", "LangChain.js"},
    };
    const char *ret = client;
    size_t i;

    for (i = 0; client != NULL && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(client, names[i][0]) == 0)
            ret = names[i][1];
    return ret;
}

/* Appends the words of one entry, after sep when out already holds some. */
static int describe_one(const struct impact *im, struct buf *out)
{
    int err = 0;
    size_t k;

    if (im->consequence != NULL)
        err =
            buf_appendf(out, "%s%s", out->len > 0 ? "; " : "", im->consequence);
    for (k = 0;
         err == 0 && k < IMPACT_MAX_EFFECTS && im->effects[k].client != NULL;
         k++) {
        const struct impact_effect *e = &im->effects[k];
        err = buf_appendf(out, "%s%s %s (%s%s)", out->len > 0 ? "; " : "",
                          impact_client_name(e->client), e->effect,
                          e->from != NULL ? "from source: " : "measured",
                          e->from != NULL ? e->from : "");
    }
    return err;
}

/* Appends the words of the entries, joined by "; ". */
int impact_describe(const enum impact_id *ids, size_t n, struct buf *out)
{
    int err = 0;
    size_t i;

    for (i = 0; err == 0 && i < n; i++)
        if (impact_get(ids[i]) != NULL)
            err = describe_one(impact_get(ids[i]), out);
    return err;
}

/* One entry as JSON. New reference or NULL. */
static json_t *one_json(const struct impact *im)
{
    json_t *effects = json_array(), *e, *ret = NULL;
    size_t k;

    if (effects == NULL)
        goto out;
    for (k = 0; k < IMPACT_MAX_EFFECTS && im->effects[k].client != NULL; k++) {
        const struct impact_effect *f = &im->effects[k];
        e = json_pack("{s:s, s:s, s:b, s:s?}", "client", f->client, "effect",
                      f->effect, "measured", f->from == NULL, "from", f->from);
        if (json_array_append_new(effects, e) != 0)
            goto out;
    }
    ret = json_pack("{s:s, s:s?, s:s?, s:O}", "id", im->id, "check", im->check,
                    "consequence", im->consequence, "effects", effects);
out:
    json_decref(effects);
    return ret;
}

/* The entries as JSON. */
json_t *impact_json(const enum impact_id *ids, size_t n)
{
    json_t *list = json_array(), *ret = NULL;
    size_t i;

    if (list == NULL)
        goto out;
    for (i = 0; i < n; i++) {
        if (impact_get(ids[i]) == NULL)
            continue;
        if (json_array_append_new(list, one_json(impact_get(ids[i]))) != 0)
            goto out;
    }
    ret = list;
    list = NULL;
out:
    json_decref(list);
    return ret;
}
