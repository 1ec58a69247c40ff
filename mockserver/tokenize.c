/* tokenize: the deterministic tokenizer and OpenAI-style prompt counting. */
#include "tokenize.h"

#include <string.h>

#include "utf8.h"

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

/* End of a run of characters of one class starting at pos, at most max. */
static size_t run_end(const unsigned char *s, size_t len, size_t pos,
                      int (*cls)(unsigned char), size_t max)
{
    size_t end = pos;

    while (end < len && end - pos < max && cls(s[end]))
        end++;
    return end;
}

size_t tokenize_next(const char *text, size_t len, size_t pos)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t start = pos, end, n;

    if (pos >= len)
        return len;
    if (s[pos] == ' ' && pos + 1 < len &&
        (is_alpha(s[pos + 1]) || is_digit(s[pos + 1])))
        start = pos + 1;
    if (is_alpha(s[start]))
        return run_end(s, len, start, is_alpha, TOKENIZE_WORD_MAX);
    if (is_digit(s[start]))
        return run_end(s, len, start, is_digit, TOKENIZE_DIGITS_MAX);
    if (is_space(s[pos])) {
        end = run_end(s, len, pos, is_space, len);
        /* A last space before a word belongs to the word. */
        if (end - pos > 1 && s[end - 1] == ' ' && end < len &&
            (is_alpha(s[end]) || is_digit(s[end])))
            end--;
        return end;
    }
    n = utf8_seq_len(s + pos, len - pos);
    return pos + (n > 0 ? n : 1);
}

uint64_t tokenize_count(const char *s, size_t len)
{
    uint64_t n = 0;
    size_t pos = 0;

    while (pos < len) {
        pos = tokenize_next(s, len, pos);
        n++;
    }
    return n;
}

/* Tokens of a NUL-terminated string; NULL counts nothing. */
static uint64_t count_str(const char *s)
{
    return s ? tokenize_count(s, strlen(s)) : 0;
}

/* Tokens of a json string value; anything else counts nothing. */
static uint64_t count_json_str(const json_t *v)
{
    return json_is_string(v)
               ? tokenize_count(json_string_value(v), json_string_length(v))
               : 0;
}

/* Tokens of message content: a string, or the text of text/refusal parts. */
static uint64_t count_content(const json_t *content)
{
    uint64_t n = 0;
    size_t i;
    const json_t *part;

    if (json_is_string(content))
        return count_json_str(content);
    json_array_foreach(content, i, part)
    {
        n += count_json_str(json_object_get(part, "text"));
        n += count_json_str(json_object_get(part, "refusal"));
    }
    return n;
}

/* Tokens of an assistant message's tool calls: names and arguments. */
static uint64_t count_tool_calls(const json_t *calls)
{
    uint64_t n = 0;
    size_t i;
    const json_t *call, *fn;

    json_array_foreach(calls, i, call)
    {
        fn = json_object_get(call, "function");
        n += count_json_str(json_object_get(fn, "name"));
        n += count_json_str(json_object_get(fn, "arguments"));
    }
    return n;
}

uint64_t tokenize_prompt(const struct chat_request *req)
{
    uint64_t n = TOKENIZE_REPLY_PRIMING;
    size_t i;

    for (i = 0; i < req->nmessages; i++) {
        const struct chat_message *m = &req->messages[i];

        n += TOKENIZE_PER_MESSAGE + count_str(m->role);
        n += count_content(m->content);
        if (m->name != NULL)
            n += count_str(m->name) + TOKENIZE_PER_NAME;
        n += count_str(m->tool_call_id);
        n += count_tool_calls(m->tool_calls);
    }
    return n;
}
