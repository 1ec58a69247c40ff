/* errors: the mapping from an API error to its status and OpenAI body. */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

/* One row per kind: the status and the type and code OpenAI sends. */
static const struct {
    int status;
    const char *type;
    const char *code;
} error_table[] = {
    [API_ERR_NONE] = {200, "", NULL},
    [API_ERR_INVALID_JSON] = {400, "invalid_request_error", "invalid_json"},
    [API_ERR_INVALID_REQUEST] = {400, "invalid_request_error", NULL},
    [API_ERR_MISSING_KEY] = {401, "invalid_request_error", NULL},
    [API_ERR_INVALID_KEY] = {401, "invalid_request_error", "invalid_api_key"},
    [API_ERR_INSUFFICIENT_FUNDS] = {402, "insufficient_quota",
                                    "insufficient_quota"},
    [API_ERR_MODEL_NOT_FOUND] = {404, "invalid_request_error",
                                 "model_not_found"},
    [API_ERR_UNKNOWN_URL] = {404, "invalid_request_error", "unknown_url"},
    [API_ERR_METHOD_NOT_ALLOWED] = {405, "invalid_request_error",
                                    "method_not_allowed"},
    [API_ERR_BODY_TOO_LARGE] = {413, "invalid_request_error",
                                "request_too_large"},
    [API_ERR_HEADERS_TOO_LARGE] = {431, "invalid_request_error",
                                   "request_headers_too_large"},
    [API_ERR_RATE_REQUESTS] = {429, "requests", "rate_limit_exceeded"},
    [API_ERR_RATE_TOKENS] = {429, "tokens", "rate_limit_exceeded"},
    [API_ERR_SERVER] = {500, "server_error", "server_error"},
};

void api_error_set(struct api_error *e, enum api_error_kind kind,
                   const char *param, const char *code, const char *fmt, ...)
{
    va_list ap;

    e->kind = kind;
    e->code = code;
    snprintf(e->param, sizeof(e->param), "%s", param ? param : "");
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    /* Client text (a path, a parameter name) and a cut at the buffer's end
     * must never make the error body unencodable. */
    e->message[utf8_trim_partial(e->message, strlen(e->message))] = '\0';
    e->param[utf8_trim_partial(e->param, strlen(e->param))] = '\0';
    utf8_scrub(e->message);
    utf8_scrub(e->param);
}

int api_error_status(enum api_error_kind kind)
{
    if ((unsigned)kind >= sizeof(error_table) / sizeof(error_table[0]))
        return 500;
    return error_table[kind].status;
}

json_t *api_error_body(const struct api_error *e)
{
    enum api_error_kind kind = e->kind;
    const char *code;

    if ((unsigned)kind >= sizeof(error_table) / sizeof(error_table[0]) ||
        kind == API_ERR_NONE)
        kind = API_ERR_SERVER;
    code = e->code ? e->code : error_table[kind].code;
    return json_pack("{s:{s:s, s:s, s:o, s:o}}", "error", "message", e->message,
                     "type", error_table[kind].type, "param",
                     e->param[0] ? json_string(e->param) : json_null(), "code",
                     code ? json_string(code) : json_null());
}

/* What a scripted error of a given status says unless the rule says
 * otherwise: OpenAI's type and code for it, and a message in its words. */
static const struct {
    int status;
    const char *type;
    const char *code;
    const char *message;
} status_table[] = {
    {400, "invalid_request_error", NULL, "Bad request."},
    {401, "invalid_request_error", "invalid_api_key",
     "Incorrect API key provided."},
    {402, "insufficient_quota", "insufficient_quota",
     "You exceeded your current quota, please check your plan and billing "
     "details."},
    {403, "invalid_request_error", "permission_denied",
     "You are not allowed to make this request."},
    {404, "invalid_request_error", "not_found",
     "The requested resource does not exist."},
    {408, "invalid_request_error", "timeout", "The request timed out."},
    {409, "invalid_request_error", "conflict",
     "The request conflicts with the current state."},
    {422, "invalid_request_error", "unprocessable_entity",
     "The request could not be processed."},
    {429, "requests", "rate_limit_exceeded",
     "Rate limit reached for requests. Please try again later."},
    {500, "server_error", "server_error",
     "The server had an error while processing your request. Sorry about "
     "that!"},
    {502, "server_error", "bad_gateway",
     "Bad gateway: the upstream server failed."},
    {503, "server_error", "service_unavailable",
     "The engine is currently overloaded, please try again later."},
    {504, "server_error", "timeout",
     "Gateway timeout: the upstream server did not answer in time."},
};

json_t *api_error_body_for(int status, const char *message, const char *type,
                           const char *code, const char *param)
{
    const char *dtype = status < 500 ? "invalid_request_error" : "server_error";
    const char *dcode = NULL, *dmessage = NULL;
    char generic[64];
    size_t i;

    for (i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++) {
        if (status_table[i].status == status) {
            dtype = status_table[i].type;
            dcode = status_table[i].code;
            dmessage = status_table[i].message;
        }
    }
    if (dmessage == NULL) {
        snprintf(generic, sizeof(generic), "The request failed with status %d.",
                 status);
        dmessage = generic;
    }
    code = code != NULL ? code : dcode;
    return json_pack("{s:{s:s, s:s, s:o, s:o}}", "error", "message",
                     message != NULL ? message : dmessage, "type",
                     type != NULL ? type : dtype, "param",
                     param != NULL ? json_string(param) : json_null(), "code",
                     code != NULL ? json_string(code) : json_null());
}
