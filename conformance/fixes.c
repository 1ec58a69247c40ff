/* fixes: for every check, what a server's maintainer changes to pass it.
 * Kept apart from the check tables so that a rule and its remedy can be
 * reworded independently; test_conform proves the two lists match. */
#include "fixes.h"

#include <string.h>

static const struct {
    const char *id;
    const char *fix;
} fixes[] = {
    {"models.list",
     "Answer GET /models with 200, Content-Type "
     "application/json and {\"object\":\"list\",\"data\":[...]}."},
    {"models.items", "Give every model in data an id (string), object "
                     "\"model\", created (integer Unix seconds) and owned_by "
                     "(string)."},
    {"models.chosen", "List every model the API serves in GET /models, or "
                      "test one that it lists (--model)."},
    {"models.retrieve", "Answer GET /models/{id} with the Model object of "
                        "that id, or answer 404 for every id if the route is "
                        "not offered."},
    {"chat.status", "Answer a valid POST /chat/completions with 200 and a "
                    "JSON object labelled Content-Type: application/json."},
    {"chat.id", "Give every completion an id, a non-empty string such as "
                "chatcmpl-..."},
    {"chat.object", "Set object to \"chat.completion\" on every completion "
                    "that is not streamed."},
    {"chat.created", "Set created to the Unix time of the answer, in "
                     "seconds, as a JSON integer."},
    {"chat.created-plausible", "Set created from the server's clock in "
                               "seconds (not milliseconds), and keep that "
                               "clock in sync (NTP)."},
    {"chat.model", "Set model to the id of the model that answered, as a "
                   "string."},
    {"chat.choices", "Return choices as an array with one object per choice, "
                     "each with index equal to its position (0, 1, ...)."},
    {"chat.message", "Give each message role \"assistant\" and content "
                     "(a string, or null with tool calls); refusal a string "
                     "or null, tool_calls an array."},
    {"chat.finish-reason", "End each choice with finish_reason stop, length, "
                           "tool_calls or content_filter."},
    {"chat.nullable-fields", "Send choices[].logprobs and message.refusal "
                             "even when they are null."},
    {"chat.field-types", "Send logprobs as an object or null, "
                         "system_fingerprint as a string, service_tier as a "
                         "ServiceTier value or null, and every usage count "
                         "as an integer."},
    {"chat.n", "Return n choices with indexes 0..n-1 when n is asked, or "
               "refuse n > 1 with 400 and the error body."},
    {"chat.stop", "Cut the reply before the first stop sequence (leaving it "
                  "out) with finish_reason stop, or refuse stop with 400 and "
                  "the error body."},
    {"chat.request-id", "Send an x-request-id header on every response, the "
                        "id your logs keep for the request."},
    {"stream.status", "Answer a valid request with stream true with 200 and "
                      "a whole event stream; report a failure before the "
                      "first event with its HTTP status, not an error event "
                      "after a 200."},
    {"stream.content-type", "Label streams Content-Type: text/event-stream."},
    {"stream.framing", "End every event, [DONE] included, with a blank line "
                       "(\\n\\n)."},
    {"stream.utf8", "Encode the event stream in UTF-8."},
    {"stream.line-endings", "End every line with \\n (or every line with "
                            "\\r\\n); never a bare \\r."},
    {"stream.sdk-hazards", "Send only data: lines (and : comments): no byte "
                           "order mark, no id:, retry: or event: lines."},
    {"stream.json", "Send every event before [DONE] as one JSON object on "
                    "data: lines."},
    {"stream.no-error-key", "Leave the error key out of successful chunks, "
                            "even as \"error\": null."},
    {"stream.chunk-object", "Set object to \"chat.completion.chunk\" on "
                            "every chunk."},
    {"stream.chunk-shape", "Give every chunk id, created, model and choices, "
                           "and every choice index, delta and finish_reason "
                           "(null until the last), with the spec's types."},
    {"stream.chunk-consistent", "Send the same id, created and model on "
                                "every chunk of a stream."},
    {"stream.first-role", "Send role \"assistant\" in the first delta of "
                          "each choice."},
    {"stream.finish-once", "Send finish_reason once per choice, on its last "
                           "delta, with no content after it; stream every "
                           "choice that n asks for."},
    {"stream.done-present", "End every stream with the event data: [DONE] "
                            "(one space, then exactly [DONE])."},
    {"stream.done-last", "Send nothing after the data: [DONE] event."},
    {"stream.closes-after-done", "Close the connection (or end the chunked "
                                 "body) right after data: [DONE]."},
    {"stream.usage-null", "With include_usage, send usage null (or leave it "
                          "out) on every chunk that has choices."},
    {"stream.usage-chunk", "With include_usage, send one last chunk before "
                           "[DONE] with choices [] and the usage of the whole "
                           "request."},
    {"stream.usage-unasked", "Send the usage chunk only when "
                             "stream_options.include_usage is true."},
    {"stream.incremental", "Forward each chunk as the model produces it: "
                           "turn off response buffering in the server and "
                           "any proxy (X-Accel-Buffering: no, flush per "
                           "event)."},
    {"usage.present", "Return usage with integer prompt_tokens, "
                      "completion_tokens and total_tokens on every "
                      "completion."},
    {"usage.total", "Set total_tokens to prompt_tokens + completion_tokens."},
    {"usage.max-tokens", "Stop generating at max_tokens and count no more "
                         "completion tokens than that."},
    {"usage.length", "Set finish_reason \"length\" when max_tokens cut the "
                     "reply."},
    {"usage.prompt-grows", "Count prompt_tokens from the request's messages "
                           "with the model's tokenizer."},
    {"usage.stream-equals", "Count the same usage for a request whether it "
                            "is streamed or not."},
    {"usage.completion-counted", "Count every generated token in "
                                 "completion_tokens, reasoning_content "
                                 "included (and report it in "
                                 "completion_tokens_details."
                                 "reasoning_tokens)."},
    {"params.temperature", "Validate temperature (0..2) and refuse other "
                           "values with 400 and the error body."},
    {"params.top-p", "Validate top_p (0..1) and refuse other values with "
                     "400 and the error body."},
    {"params.frequency-penalty", "Validate frequency_penalty (-2..2) and "
                                 "refuse other values with 400 and the error "
                                 "body."},
    {"params.presence-penalty", "Validate presence_penalty (-2..2) and "
                                "refuse other values with 400 and the error "
                                "body."},
    {"params.max-tokens-zero", "Refuse max_tokens below 1 with 400 and the "
                               "error body."},
    {"params.max-tokens-negative", "Refuse max_tokens below 1 with 400 and "
                                   "the error body."},
    {"params.max-tokens-string", "Refuse a max_tokens that is not a JSON "
                                 "integer with 400 and the error body."},
    {"params.messages-missing", "Refuse a request without messages with 400 "
                                "and the error body."},
    {"params.messages-empty", "Refuse messages [] with 400 and the error "
                              "body."},
    {"params.messages-not-array", "Refuse messages that is not an array with "
                                  "400 and the error body."},
    {"params.role-invalid", "Refuse a message role other than developer, "
                            "system, user, assistant or tool with 400 and "
                            "the error body."},
    {"params.model-missing", "Refuse a request without model with 400 and "
                             "the error body."},
    {"params.stop-too-many", "Refuse more than four stop sequences with 400 "
                             "and the error body."},
    {"params.malformed-json", "Refuse a body that is not JSON with 400 and "
                              "the error body."},
    {"params.stream-invalid", "Validate the request before starting the "
                              "stream, and refuse an invalid one with 400 "
                              "and the error body, as without stream."},
    {"params.param-named", "Set error.param to the name of the invalid "
                           "field."},
    {"tools.forced", "Honour tool_choice: when it names a function, call "
                     "that function; or refuse tools with 400 and the error "
                     "body."},
    {"tools.call", "Give each tool call function {name, arguments}, the "
                   "arguments a JSON object serialised as a string."},
    {"tools.call-fields", "Give each tool call an id and type \"function\" "
                          "(streamed: on its first delta, with the name), and "
                          "end the choice with finish_reason tool_calls."},
    {"tools.stream", "Stream tool calls as OpenAI does: index on every "
                     "tool_calls item, the name on the first delta, the "
                     "arguments string split across the deltas so that they "
                     "join into JSON, and a finish_reason at the end."},
    {"format.json-object", "With response_format json_object, constrain the "
                           "reply to one JSON object, or refuse it with 400 "
                           "and the error body."},
    {"format.json-schema", "With response_format json_schema, constrain the "
                           "reply to the schema sent, or refuse it with 400 "
                           "and the error body."},
    {"auth.missing", "Refuse a request without Authorization with 401 and "
                     "the error body."},
    {"auth.wrong-scheme", "Accept only Authorization: Bearer KEY; refuse "
                          "other schemes with 401 and the error body."},
    {"auth.unknown-key", "Refuse an unknown key with 401 and the error "
                         "body."},
    {"notfound.chat-model", "Refuse a chat completion for an unknown model "
                            "with 404 and the error body."},
    {"notfound.code", "Set code \"model_not_found\" on the 404 for an "
                      "unknown model."},
    {"notfound.retrieve", "Answer GET /models/{id} for an unknown id with "
                          "404 and the error body."},
    {"billing.balance-shape", "Answer GET /balance with 200 and {balance "
                              "(number), currency (string), total_spent "
                              "(number), last_updated (ISO-8601 UTC)}."},
    {"billing.charge", "Charge each billed request once: subtract it from "
                       "balance and add the same amount to total_spent."},
    {"billing.last-updated", "Set last_updated from the server's clock when "
                             "the balance changes; never move it back."},
    {"billing.insufficient", "Refuse a chat completion for a key with no "
                             "balance with 402 and the error body."},
    {"billing.insufficient-code", "Set type or code \"insufficient_quota\" "
                                  "on the 402."},
    {"ratelimit.429", "Refuse the request past the per-minute limit with "
                      "429 and the error body."},
    {"ratelimit.retry-after", "Send Retry-After (whole seconds) on every "
                              "429; retry-after-ms, if sent, as a "
                              "non-negative number."},
    {"ratelimit.retry-after-range", "Send a Retry-After between 1 and 60 "
                                    "seconds: the time until the window "
                                    "frees a request."},
    {"ratelimit.headers", "Send x-ratelimit-limit/remaining/reset-requests "
                          "that agree: one limit, remaining falling by one "
                          "per request and 0 on the 429, reset as a "
                          "duration (1s, 6m0s)."},
    {"ratelimit.limit-header", "Send x-ratelimit-limit-requests equal to the "
                               "key's real per-minute limit (or run with "
                               "--rpm set to it)."},
};

/* Finds id by a linear search: a run looks up a hundred ids once each. */
const char *fixes_get(const char *id)
{
    const char *ret = NULL;
    size_t i;

    for (i = 0; id != NULL && i < sizeof(fixes) / sizeof(fixes[0]); i++)
        if (strcmp(fixes[i].id, id) == 0) {
            ret = fixes[i].fix;
            break;
        }
    return ret;
}

/* The id of fix number i. */
const char *fixes_id(size_t i)
{
    return i < sizeof(fixes) / sizeof(fixes[0]) ? fixes[i].id : NULL;
}

/* How many checks have a fix. */
size_t fixes_count(void)
{
    return sizeof(fixes) / sizeof(fixes[0]);
}
