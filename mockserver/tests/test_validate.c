/* test_validate: table-driven cases for validate_chat_request, plus checks
 * of the struct it fills for valid requests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "validate.h"

/* One case. The JSON uses single quotes for double quotes so the table stays
 * readable; unless whole is set it is merged over a minimal valid body. */
struct vcase {
    const char *name;
    const char *json;
    bool whole;
    const char *param;   /* NULL: the request must be accepted */
    const char *code;    /* expected error code */
    const char *message; /* exact message, or NULL to skip */
};

#define OK(name, json)                                                         \
    {                                                                          \
        name, json, false, NULL, NULL, NULL                                    \
    }
#define BAD(name, json, param, code)                                           \
    {                                                                          \
        name, json, false, param, code, NULL                                   \
    }
#define BADM(name, json, param, code, msg)                                     \
    {                                                                          \
        name, json, false, param, code, msg                                    \
    }
#define WHOLE_OK(name, json)                                                   \
    {                                                                          \
        name, json, true, NULL, NULL, NULL                                     \
    }
#define WHOLE_BAD(name, json, param, code, msg)                                \
    {                                                                          \
        name, json, true, param, code, msg                                     \
    }

/* Strings of exact lengths, for the 64- and 512-character limits. */
#define A8 "aaaaaaaa"
#define A64 A8 A8 A8 A8 A8 A8 A8 A8
#define A512 A64 A64 A64 A64 A64 A64 A64 A64

/* A user turn, an assistant turn with a tool call, and a tool answer. */
#define TOOL_TURN                                                              \
    "{'role':'user','content':'hi'},"                                          \
    "{'role':'assistant','content':null,'tool_calls':[{'id':'c1',"             \
    "'type':'function','function':{'name':'f','arguments':'{}'}}]}"

#define FN_TOOL "{'type':'function','function':{'name':'get_weather'}}"

static const struct vcase cases[] = {
    /* The body itself. */
    WHOLE_BAD("body array", "[]", "", "invalid_type",
              "The request body must be a JSON object, but got an array "
              "instead."),
    WHOLE_BAD("body string", "'x'", "", "invalid_type", NULL),
    WHOLE_BAD("body null", "null", "", "invalid_type",
              "The request body must be a JSON object, but got null "
              "instead."),
    WHOLE_BAD("body number", "42", "", "invalid_type", NULL),
    WHOLE_BAD("body true", "true", "", "invalid_type", NULL),
    WHOLE_BAD("body empty object", "{}", "model", "missing_required_parameter",
              "Missing required parameter: 'model'."),
    WHOLE_OK("minimal", "{'model':'m','messages':[{'role':'user',"
                        "'content':'hi'}]}"),

    /* model */
    WHOLE_BAD("model missing", "{'messages':[{'role':'user','content':'x'}]}",
              "model", "missing_required_parameter", NULL),
    BADM("model empty", "{'model':''}", "model", "empty_string",
         "Invalid 'model': empty string. Expected a string with minimum "
         "length 1, but got an empty string instead."),
    BAD("model number", "{'model':5}", "model", "invalid_type"),
    BAD("model null", "{'model':null}", "model", "invalid_type"),
    BAD("model array", "{'model':['m']}", "model", "invalid_type"),

    /* messages */
    WHOLE_BAD("messages missing", "{'model':'m'}", "messages",
              "missing_required_parameter",
              "Missing required parameter: 'messages'."),
    BADM("messages empty", "{'messages':[]}", "messages", "empty_array",
         "Invalid 'messages': empty array. Expected an array with minimum "
         "length 1, but got an empty array instead."),
    BADM("messages object", "{'messages':{'role':'user'}}", "messages",
         "invalid_type",
         "Invalid type for 'messages': expected an array, but got an object "
         "instead."),
    BAD("messages string", "{'messages':'hi'}", "messages", "invalid_type"),
    BAD("messages null", "{'messages':null}", "messages", "invalid_type"),
    BAD("message not object", "{'messages':[1]}", "messages[0]",
        "invalid_type"),
    BAD("message role missing", "{'messages':[{'content':'x'}]}",
        "messages[0].role", "missing_required_parameter"),
    BAD("message role number", "{'messages':[{'role':1,'content':'x'}]}",
        "messages[0].role", "invalid_type"),
    BADM("message role unknown", "{'messages':[{'role':'bot','content':'x'}]}",
         "messages[0].role", "invalid_value",
         "Invalid value: 'bot'. Supported values are: 'system', 'user', "
         "'assistant', 'tool', 'developer', and 'function'."),
    BAD("message error index",
        "{'messages':[{'role':'user','content':'a'},{'role':'user',"
        "'content':'b'},{'role':'user','content':[{'type':'text'}]}]}",
        "messages[2].content[0].text", "missing_required_parameter"),

    /* system and developer messages */
    OK("system string", "{'messages':[{'role':'system','content':'s'}]}"),
    OK("system empty string", "{'messages':[{'role':'system','content':''}]}"),
    OK("system with name",
       "{'messages':[{'role':'system','content':'s','name':'n'}]}"),
    OK("system text parts",
       "{'messages':[{'role':'system','content':[{'type':"
       "'text','text':'a'},{'type':'text','text':'b'}]}]}"),
    BADM("system image part",
         "{'messages':[{'role':'system','content':[{'type':'image_url',"
         "'image_url':{'url':'http://x'}}]}]}",
         "messages[0].content[0].type", "invalid_value",
         "Invalid value: 'image_url'. Supported values are: 'text'."),
    BAD("system content missing", "{'messages':[{'role':'system'}]}",
        "messages[0].content", "missing_required_parameter"),
    BAD("system content null",
        "{'messages':[{'role':'system','content':null}]}",
        "messages[0].content", "invalid_type"),
    BAD("system content number", "{'messages':[{'role':'system','content':5}]}",
        "messages[0].content", "invalid_type"),
    BAD("system content empty array",
        "{'messages':[{'role':'system','content':[]}]}", "messages[0].content",
        "empty_array"),
    BAD("system name number",
        "{'messages':[{'role':'system','content':'s','name':5}]}",
        "messages[0].name", "invalid_type"),
    BAD("system tool_calls unknown",
        "{'messages':[{'role':'system','content':'s','tool_calls':[]}]}",
        "messages[0].tool_calls", "unknown_parameter"),
    OK("developer string",
       "{'messages':[{'role':'developer','content':'d','name':'n'}]}"),
    OK("developer text parts", "{'messages':[{'role':'developer','content':"
                               "[{'type':'text','text':'d'}]}]}"),
    BAD("developer audio part",
        "{'messages':[{'role':'developer','content':[{'type':'input_audio',"
        "'input_audio':{'data':'x','format':'wav'}}]}]}",
        "messages[0].content[0].type", "invalid_value"),
    BAD("developer content missing", "{'messages':[{'role':'developer'}]}",
        "messages[0].content", "missing_required_parameter"),

    /* user messages */
    OK("user with name",
       "{'messages':[{'role':'user','content':'u','name':'bob'}]}"),
    OK("user text part",
       "{'messages':[{'role':'user','content':[{'type':'text','text':'t'}]}]}"),
    OK("user image part",
       "{'messages':[{'role':'user','content':[{'type':'text','text':'see'},"
       "{'type':'image_url','image_url':{'url':'https://x/y.png',"
       "'detail':'high'}}]}]}"),
    OK("user audio part",
       "{'messages':[{'role':'user','content':[{'type':'input_audio',"
       "'input_audio':{'data':'AAAA','format':'mp3'}}]}]}"),
    OK("user file part",
       "{'messages':[{'role':'user','content':[{'type':'file','file':"
       "{'filename':'a.pdf','file_data':'x','file_id':'f1'}}]}]}"),
    OK("user empty file part",
       "{'messages':[{'role':'user','content':[{'type':'file','file':{}}]}]}"),
    OK("user cache breakpoint",
       "{'messages':[{'role':'user','content':[{'type':'text','text':'t',"
       "'prompt_cache_breakpoint':{'mode':'explicit'}}]}]}"),
    BAD("user cache breakpoint mode",
        "{'messages':[{'role':'user','content':[{'type':'text','text':'t',"
        "'prompt_cache_breakpoint':{'mode':'auto'}}]}]}",
        "messages[0].content[0].prompt_cache_breakpoint.mode", "invalid_value"),
    BAD("user image detail",
        "{'messages':[{'role':'user','content':[{'type':'image_url',"
        "'image_url':{'url':'u','detail':'ultra'}}]}]}",
        "messages[0].content[0].image_url.detail", "invalid_value"),
    BAD("user image url missing",
        "{'messages':[{'role':'user','content':[{'type':'image_url',"
        "'image_url':{'detail':'low'}}]}]}",
        "messages[0].content[0].image_url.url", "missing_required_parameter"),
    BAD("user image_url string",
        "{'messages':[{'role':'user','content':[{'type':'image_url',"
        "'image_url':'http://x'}]}]}",
        "messages[0].content[0].image_url", "invalid_type"),
    BAD("user audio format",
        "{'messages':[{'role':'user','content':[{'type':'input_audio',"
        "'input_audio':{'data':'x','format':'ogg'}}]}]}",
        "messages[0].content[0].input_audio.format", "invalid_value"),
    BAD("user audio data missing",
        "{'messages':[{'role':'user','content':[{'type':'input_audio',"
        "'input_audio':{'format':'wav'}}]}]}",
        "messages[0].content[0].input_audio.data",
        "missing_required_parameter"),
    BAD("user file unknown key",
        "{'messages':[{'role':'user','content':[{'type':'file','file':"
        "{'path':'/etc'}}]}]}",
        "messages[0].content[0].file.path", "unknown_parameter"),
    BAD("user text missing",
        "{'messages':[{'role':'user','content':[{'type':'text'}]}]}",
        "messages[0].content[0].text", "missing_required_parameter"),
    BADM("user text number",
         "{'messages':[{'role':'user','content':[{'type':'text','text':5}]}]}",
         "messages[0].content[0].text", "invalid_type",
         "Invalid type for 'messages[0].content[0].text': expected a string, "
         "but got an integer instead."),
    BAD("user part type missing",
        "{'messages':[{'role':'user','content':[{'text':'t'}]}]}",
        "messages[0].content[0].type", "missing_required_parameter"),
    BAD("user part type number",
        "{'messages':[{'role':'user','content':[{'type':1,'text':'t'}]}]}",
        "messages[0].content[0].type", "invalid_type"),
    BAD("user part string",
        "{'messages':[{'role':'user','content':['hello']}]}",
        "messages[0].content[0]", "invalid_type"),
    BAD("user refusal part",
        "{'messages':[{'role':'user','content':[{'type':'refusal',"
        "'refusal':'no'}]}]}",
        "messages[0].content[0].type", "invalid_value"),
    BAD("user part extra key",
        "{'messages':[{'role':'user','content':[{'type':'text','text':'t',"
        "'image_url':{'url':'u'}}]}]}",
        "messages[0].content[0].image_url", "unknown_parameter"),
    BAD("user content missing", "{'messages':[{'role':'user'}]}",
        "messages[0].content", "missing_required_parameter"),
    BAD("user content null", "{'messages':[{'role':'user','content':null}]}",
        "messages[0].content", "invalid_type"),
    BAD("user content object",
        "{'messages':[{'role':'user','content':{'type':'text'}}]}",
        "messages[0].content", "invalid_type"),
    BAD("user content empty array",
        "{'messages':[{'role':'user','content':[]}]}", "messages[0].content",
        "empty_array"),
    BADM("user unknown key",
         "{'messages':[{'role':'user','content':'u','foo':1}]}",
         "messages[0].foo", "unknown_parameter",
         "Unknown parameter: 'messages[0].foo'."),
    BAD("user tool_call_id",
        "{'messages':[{'role':'user','content':'u',"
        "'tool_call_id':'c1'}]}",
        "messages[0].tool_call_id", "unknown_parameter"),

    /* assistant messages */
    OK("assistant string", "{'messages':[{'role':'user','content':'u'},"
                           "{'role':'assistant','content':'a','name':'n'}]}"),
    OK("assistant tool call, content null", "{'messages':[" TOOL_TURN "]}"),
    OK("assistant tool call, no content",
       "{'messages':[{'role':'assistant','tool_calls':[{'id':'c1','type':"
       "'function','function':{'name':'f','arguments':''}}]}]}"),
    OK("assistant custom tool call",
       "{'messages':[{'role':'assistant','tool_calls':[{'id':'c1','type':"
       "'custom','custom':{'name':'f','input':'x'}}]}]}"),
    OK("assistant function_call",
       "{'messages':[{'role':'assistant','content':null,'function_call':"
       "{'name':'f','arguments':'{}'}}]}"),
    OK("assistant parts", "{'messages':[{'role':'assistant','content':[{'type':"
                          "'text','text':'a'},{'type':'refusal','refusal':"
                          "'no'}]}]}"),
    OK("assistant refusal only",
       "{'messages':[{'role':'assistant','content':null,'refusal':'no'}]}"),
    OK("assistant audio only",
       "{'messages':[{'role':'assistant','audio':{'id':'audio_1'}}]}"),
    BAD("assistant audio without id",
        "{'messages':[{'role':'assistant','content':'a','audio':{}}]}",
        "messages[0].audio.id", "missing_required_parameter"),
    BADM("assistant no content",
         "{'messages':[{'role':'user','content':'u'},{'role':'assistant'}]}",
         "messages[1].content", "missing_required_parameter",
         "Missing required parameter: 'messages[1].content'."),
    BAD("assistant null content, no tool calls",
        "{'messages':[{'role':'assistant','content':null}]}",
        "messages[0].content", "missing_required_parameter"),
    BAD("assistant empty tool_calls, no content",
        "{'messages':[{'role':'assistant','tool_calls':[]}]}",
        "messages[0].content", "missing_required_parameter"),
    BAD("assistant image part",
        "{'messages':[{'role':'assistant','content':[{'type':'image_url',"
        "'image_url':{'url':'u'}}]}]}",
        "messages[0].content[0].type", "invalid_value"),
    BAD("assistant tool_calls object",
        "{'messages':[{'role':'assistant','tool_calls':{}}]}",
        "messages[0].tool_calls", "invalid_type"),
    BAD("assistant tool call id missing",
        "{'messages':[{'role':'assistant','tool_calls':[{'type':'function',"
        "'function':{'name':'f','arguments':''}}]}]}",
        "messages[0].tool_calls[0].id", "missing_required_parameter"),
    BAD("assistant tool call type",
        "{'messages':[{'role':'assistant','tool_calls':[{'id':'c','type':"
        "'retrieval','function':{'name':'f','arguments':''}}]}]}",
        "messages[0].tool_calls[0].type", "invalid_value"),
    BAD("assistant tool call arguments object",
        "{'messages':[{'role':'assistant','tool_calls':[{'id':'c','type':"
        "'function','function':{'name':'f','arguments':{}}}]}]}",
        "messages[0].tool_calls[0].function.arguments", "invalid_type"),
    BAD("assistant tool call arguments missing",
        "{'messages':[{'role':'assistant','tool_calls':[{'id':'c','type':"
        "'function','function':{'name':'f'}}]}]}",
        "messages[0].tool_calls[0].function.arguments",
        "missing_required_parameter"),
    BAD("assistant refusal number",
        "{'messages':[{'role':'assistant','content':'a','refusal':1}]}",
        "messages[0].refusal", "invalid_type"),
    BAD("assistant tool_call_id",
        "{'messages':[{'role':'assistant','content':'a','tool_call_id':'c'}]}",
        "messages[0].tool_call_id", "unknown_parameter"),

    /* tool messages */
    OK("tool message", "{'messages':[" TOOL_TURN ",{'role':'tool','content':"
                       "'sunny','tool_call_id':'c1'}]}"),
    OK("tool text parts",
       "{'messages':[" TOOL_TURN ",{'role':'tool','content':[{'type':'text',"
       "'text':'sunny'}],'tool_call_id':'c1'}]}"),
    BADM("tool call id missing",
         "{'messages':[{'role':'user','content':'u'},{'role':'tool',"
         "'content':'x'}]}",
         "messages[1].tool_call_id", "missing_required_parameter",
         "Missing required parameter: 'messages[1].tool_call_id'."),
    BAD("tool call id number",
        "{'messages':[{'role':'tool','content':'x','tool_call_id':7}]}",
        "messages[0].tool_call_id", "invalid_type"),
    BAD("tool content missing",
        "{'messages':[{'role':'tool','tool_call_id':'c'}]}",
        "messages[0].content", "missing_required_parameter"),
    BAD("tool image part",
        "{'messages':[{'role':'tool','tool_call_id':'c','content':[{'type':"
        "'image_url','image_url':{'url':'u'}}]}]}",
        "messages[0].content[0].type", "invalid_value"),
    BAD("tool name not in schema",
        "{'messages':[{'role':'tool','tool_call_id':'c','content':'x',"
        "'name':'f'}]}",
        "messages[0].name", "unknown_parameter"),

    /* function messages (deprecated) */
    OK("function message",
       "{'messages':[{'role':'function','name':'f','content':'42'}]}"),
    OK("function message null content",
       "{'messages':[{'role':'function','name':'f','content':null}]}"),
    BAD("function message name missing",
        "{'messages':[{'role':'function','content':'42'}]}", "messages[0].name",
        "missing_required_parameter"),
    BAD("function message content missing",
        "{'messages':[{'role':'function','name':'f'}]}", "messages[0].content",
        "missing_required_parameter"),
    BAD("function message parts",
        "{'messages':[{'role':'function','name':'f','content':[{'type':"
        "'text','text':'x'}]}]}",
        "messages[0].content", "invalid_type"),

    /* unknown top-level parameters */
    BADM("unknown parameter", "{'foo':1}", "foo", "unknown_parameter",
         "Unrecognized request argument supplied: foo"),
    BAD("unknown parameter case", "{'Temperature':1}", "Temperature",
        "unknown_parameter"),
    BAD("unknown parameter null", "{'max_output_tokens':null}",
        "max_output_tokens", "unknown_parameter"),

    /* temperature: number 0..2 */
    OK("temperature 0", "{'temperature':0}"),
    OK("temperature 2", "{'temperature':2}"),
    OK("temperature 2.0", "{'temperature':2.0}"),
    OK("temperature 0.7", "{'temperature':0.7}"),
    OK("temperature null", "{'temperature':null}"),
    BADM("temperature -0.0001", "{'temperature':-0.0001}", "temperature",
         "decimal_below_min_value",
         "Invalid 'temperature': decimal below minimum value. Expected a "
         "value >= 0, but got -0.0001 instead."),
    BAD("temperature 2.0001", "{'temperature':2.0001}", "temperature",
        "decimal_above_max_value"),
    BADM("temperature 2.5", "{'temperature':2.5}", "temperature",
         "decimal_above_max_value",
         "Invalid 'temperature': decimal above maximum value. Expected a "
         "value <= 2, but got 2.5 instead."),
    BADM("temperature 3", "{'temperature':3}", "temperature",
         "decimal_above_max_value",
         "Invalid 'temperature': decimal above maximum value. Expected a "
         "value <= 2, but got 3 instead."),
    BADM("temperature string", "{'temperature':'1'}", "temperature",
         "invalid_type",
         "Invalid type for 'temperature': expected a number, but got a "
         "string instead."),
    BAD("temperature bool", "{'temperature':true}", "temperature",
        "invalid_type"),

    /* top_p: number 0..1 */
    OK("top_p 0", "{'top_p':0}"),
    OK("top_p 1", "{'top_p':1}"),
    OK("top_p null", "{'top_p':null}"),
    BAD("top_p -0.0001", "{'top_p':-0.0001}", "top_p",
        "decimal_below_min_value"),
    BADM("top_p 1.0001", "{'top_p':1.0001}", "top_p", "decimal_above_max_value",
         "Invalid 'top_p': decimal above maximum value. Expected a value <= "
         "1, but got 1.0001 instead."),
    BAD("top_p string", "{'top_p':'0.5'}", "top_p", "invalid_type"),

    /* frequency_penalty and presence_penalty: number -2..2 */
    OK("frequency_penalty -2", "{'frequency_penalty':-2}"),
    OK("frequency_penalty 2", "{'frequency_penalty':2}"),
    OK("frequency_penalty null", "{'frequency_penalty':null}"),
    BADM("frequency_penalty -2.0001", "{'frequency_penalty':-2.0001}",
         "frequency_penalty", "decimal_below_min_value",
         "Invalid 'frequency_penalty': decimal below minimum value. Expected "
         "a value >= -2, but got -2.0001 instead."),
    BAD("frequency_penalty 2.0001", "{'frequency_penalty':2.0001}",
        "frequency_penalty", "decimal_above_max_value"),
    BAD("frequency_penalty string", "{'frequency_penalty':'0'}",
        "frequency_penalty", "invalid_type"),
    OK("presence_penalty -2", "{'presence_penalty':-2.0}"),
    OK("presence_penalty 2", "{'presence_penalty':2}"),
    OK("presence_penalty null", "{'presence_penalty':null}"),
    BAD("presence_penalty -2.0001", "{'presence_penalty':-2.0001}",
        "presence_penalty", "decimal_below_min_value"),
    BAD("presence_penalty 2.0001", "{'presence_penalty':2.0001}",
        "presence_penalty", "decimal_above_max_value"),
    BAD("presence_penalty array", "{'presence_penalty':[1]}",
        "presence_penalty", "invalid_type"),

    /* max_tokens and max_completion_tokens: integer >= 1 */
    OK("max_tokens 1", "{'max_tokens':1}"),
    OK("max_tokens huge", "{'max_tokens':9223372036854775807}"),
    OK("max_tokens null", "{'max_tokens':null}"),
    BADM("max_tokens 0", "{'max_tokens':0}", "max_tokens",
         "integer_below_min_value",
         "Invalid 'max_tokens': integer below minimum value. Expected a "
         "value >= 1, but got 0 instead."),
    BAD("max_tokens -1", "{'max_tokens':-1}", "max_tokens",
        "integer_below_min_value"),
    BADM("max_tokens 5.0", "{'max_tokens':5.0}", "max_tokens", "invalid_type",
         "Invalid type for 'max_tokens': expected an integer, but got a "
         "decimal instead."),
    BAD("max_tokens string", "{'max_tokens':'5'}", "max_tokens",
        "invalid_type"),
    OK("max_completion_tokens 1", "{'max_completion_tokens':1}"),
    OK("max_completion_tokens null", "{'max_completion_tokens':null}"),
    BAD("max_completion_tokens 0", "{'max_completion_tokens':0}",
        "max_completion_tokens", "integer_below_min_value"),
    BAD("max_completion_tokens 2.5", "{'max_completion_tokens':2.5}",
        "max_completion_tokens", "invalid_type"),
    BAD("max_completion_tokens string", "{'max_completion_tokens':'9'}",
        "max_completion_tokens", "invalid_type"),

    /* n: integer 1..128 */
    OK("n 1", "{'n':1}"),
    OK("n 128", "{'n':128}"),
    OK("n null", "{'n':null}"),
    BAD("n 0", "{'n':0}", "n", "integer_below_min_value"),
    BADM("n 129", "{'n':129}", "n", "integer_above_max_value",
         "Invalid 'n': integer above maximum value. Expected a value <= 128, "
         "but got 129 instead."),
    BAD("n 1.0", "{'n':1.0}", "n", "invalid_type"),
    BAD("n string", "{'n':'2'}", "n", "invalid_type"),

    /* logprobs and top_logprobs: 0..20 and only with logprobs */
    OK("logprobs true", "{'logprobs':true}"),
    OK("logprobs null", "{'logprobs':null}"),
    BAD("logprobs string", "{'logprobs':'yes'}", "logprobs", "invalid_type"),
    OK("top_logprobs 0", "{'logprobs':true,'top_logprobs':0}"),
    OK("top_logprobs 20", "{'logprobs':true,'top_logprobs':20}"),
    OK("top_logprobs null", "{'top_logprobs':null}"),
    BAD("top_logprobs 21", "{'logprobs':true,'top_logprobs':21}",
        "top_logprobs", "integer_above_max_value"),
    BAD("top_logprobs -1", "{'logprobs':true,'top_logprobs':-1}",
        "top_logprobs", "integer_below_min_value"),
    BAD("top_logprobs decimal", "{'logprobs':true,'top_logprobs':1.5}",
        "top_logprobs", "invalid_type"),
    BAD("top_logprobs without logprobs", "{'top_logprobs':2}", "top_logprobs",
        "invalid_value"),
    BAD("top_logprobs logprobs false", "{'logprobs':false,'top_logprobs':2}",
        "top_logprobs", "invalid_value"),

    /* logit_bias: object of integers -100..100 */
    OK("logit_bias bounds", "{'logit_bias':{'50256':-100,'11':100,'7':0}}"),
    OK("logit_bias empty", "{'logit_bias':{}}"),
    OK("logit_bias null", "{'logit_bias':null}"),
    BAD("logit_bias 101", "{'logit_bias':{'50256':101}}", "logit_bias.50256",
        "integer_above_max_value"),
    BAD("logit_bias -101", "{'logit_bias':{'1':-101}}", "logit_bias.1",
        "integer_below_min_value"),
    BAD("logit_bias decimal", "{'logit_bias':{'1':1.5}}", "logit_bias.1",
        "invalid_type"),
    BAD("logit_bias string value", "{'logit_bias':{'1':'5'}}", "logit_bias.1",
        "invalid_type"),
    BAD("logit_bias array", "{'logit_bias':[1]}", "logit_bias", "invalid_type"),

    /* seed: any 64-bit integer */
    OK("seed 0", "{'seed':0}"),
    OK("seed min", "{'seed':-9223372036854775808}"),
    OK("seed max", "{'seed':9223372036854775807}"),
    OK("seed null", "{'seed':null}"),
    BAD("seed decimal", "{'seed':1.5}", "seed", "invalid_type"),
    BAD("seed string", "{'seed':'1'}", "seed", "invalid_type"),

    /* user, safety_identifier, prompt_cache_key */
    OK("user string", "{'user':'user-1234'}"),
    BAD("user number", "{'user':5}", "user", "invalid_type"),
    BAD("user null", "{'user':null}", "user", "invalid_type"),
    OK("safety_identifier 64", "{'safety_identifier':'" A64 "'}"),
    OK("safety_identifier null", "{'safety_identifier':null}"),
    BAD("safety_identifier 65", "{'safety_identifier':'" A64 "a'}",
        "safety_identifier", "string_above_max_length"),
    BAD("safety_identifier number", "{'safety_identifier':1}",
        "safety_identifier", "invalid_type"),
    OK("prompt_cache_key", "{'prompt_cache_key':'k'}"),
    OK("prompt_cache_key null", "{'prompt_cache_key':null}"),
    BAD("prompt_cache_key number", "{'prompt_cache_key':1}", "prompt_cache_key",
        "invalid_type"),

    /* stream and stream_options */
    OK("stream true", "{'stream':true}"),
    OK("stream false", "{'stream':false}"),
    OK("stream null", "{'stream':null}"),
    BAD("stream string", "{'stream':'true'}", "stream", "invalid_type"),
    BAD("stream number", "{'stream':1}", "stream", "invalid_type"),
    OK("stream_options include_usage",
       "{'stream':true,'stream_options':{'include_usage':true}}"),
    OK("stream_options empty", "{'stream':true,'stream_options':{}}"),
    OK("stream_options obfuscation",
       "{'stream':true,'stream_options':{'include_obfuscation':false}}"),
    OK("stream_options null without stream", "{'stream_options':null}"),
    BADM("stream_options without stream",
         "{'stream_options':{'include_usage':true}}", "stream_options",
         "invalid_value",
         "The 'stream_options' parameter is only allowed when 'stream' is "
         "enabled."),
    BAD("stream_options stream false", "{'stream':false,'stream_options':{}}",
        "stream_options", "invalid_value"),
    BADM("stream_options include_usage string",
         "{'stream':true,'stream_options':{'include_usage':'yes'}}",
         "stream_options.include_usage", "invalid_type",
         "Invalid type for 'stream_options.include_usage': expected a "
         "boolean, but got a string instead."),
    BAD("stream_options obfuscation number",
        "{'stream':true,'stream_options':{'include_obfuscation':1}}",
        "stream_options.include_obfuscation", "invalid_type"),
    BAD("stream_options unknown key",
        "{'stream':true,'stream_options':{'chunk_size':5}}",
        "stream_options.chunk_size", "unknown_parameter"),
    BAD("stream_options array", "{'stream':true,'stream_options':[]}",
        "stream_options", "invalid_type"),

    /* stop: null, string, or 1..4 strings */
    OK("stop null", "{'stop':null}"),
    OK("stop string", "{'stop':'END'}"),
    OK("stop empty string", "{'stop':''}"),
    OK("stop one", "{'stop':['a']}"),
    OK("stop four", "{'stop':['a','b','c','d']}"),
    BADM("stop five", "{'stop':['a','b','c','d','e']}", "stop",
         "array_above_max_length",
         "Invalid 'stop': array too long. Expected an array with maximum "
         "length 4, but got an array with length 5 instead."),
    BAD("stop empty array", "{'stop':[]}", "stop", "empty_array"),
    BAD("stop number item", "{'stop':['a',1]}", "stop[1]", "invalid_type"),
    BAD("stop number", "{'stop':5}", "stop", "invalid_type"),
    BAD("stop object", "{'stop':{}}", "stop", "invalid_type"),

    /* response_format */
    OK("response_format text", "{'response_format':{'type':'text'}}"),
    OK("response_format json_object",
       "{'response_format':{'type':'json_object'}}"),
    OK("response_format json_schema",
       "{'response_format':{'type':'json_schema','json_schema':{'name':"
       "'my-schema_1'}}}"),
    OK("response_format json_schema full",
       "{'response_format':{'type':'json_schema','json_schema':{'name':'s',"
       "'description':'d','schema':{'type':'object'},'strict':true}}}"),
    OK("response_format strict null",
       "{'response_format':{'type':'json_schema','json_schema':{'name':'s',"
       "'strict':null}}}"),
    OK("response_format name 64",
       "{'response_format':{'type':'json_schema','json_schema':{'name':'" A64
       "'}}}"),
    BAD("response_format name 65",
        "{'response_format':{'type':'json_schema','json_schema':{'name':'" A64
        "a'}}}",
        "response_format.json_schema.name", "string_above_max_length"),
    BAD("response_format name empty",
        "{'response_format':{'type':'json_schema','json_schema':{'name':''}}}",
        "response_format.json_schema.name", "empty_string"),
    BAD("response_format name space",
        "{'response_format':{'type':'json_schema','json_schema':{'name':"
        "'a b'}}}",
        "response_format.json_schema.name", "invalid_value"),
    BAD("response_format name missing",
        "{'response_format':{'type':'json_schema','json_schema':{}}}",
        "response_format.json_schema.name", "missing_required_parameter"),
    BAD("response_format json_schema missing",
        "{'response_format':{'type':'json_schema'}}",
        "response_format.json_schema", "missing_required_parameter"),
    BAD("response_format schema string",
        "{'response_format':{'type':'json_schema','json_schema':{'name':'s',"
        "'schema':'{}'}}}",
        "response_format.json_schema.schema", "invalid_type"),
    BAD("response_format type xml", "{'response_format':{'type':'xml'}}",
        "response_format.type", "invalid_value"),
    BAD("response_format type missing", "{'response_format':{}}",
        "response_format.type", "missing_required_parameter"),
    BAD("response_format string", "{'response_format':'json'}",
        "response_format", "invalid_type"),
    BAD("response_format null", "{'response_format':null}", "response_format",
        "invalid_type"),
    BAD("response_format text extra key",
        "{'response_format':{'type':'text','schema':{}}}",
        "response_format.schema", "unknown_parameter"),

    /* tools */
    OK("tools function", "{'tools':[" FN_TOOL "]}"),
    OK("tools empty", "{'tools':[]}"),
    OK("tools function full",
       "{'tools':[{'type':'function','function':{'name':'f','description':"
       "'d','parameters':{'type':'object','properties':{}},'strict':true}}]}"),
    OK("tools strict null",
       "{'tools':[{'type':'function','function':{'name':'f','strict':null}}]"
       "}"),
    OK("tools name 64",
       "{'tools':[{'type':'function','function':{'name':'" A64 "'}}]}"),
    OK("tools custom", "{'tools':[{'type':'custom','custom':{'name':'c'}}]}"),
    OK("tools custom grammar",
       "{'tools':[{'type':'custom','custom':{'name':'c','description':'d',"
       "'format':{'type':'grammar','grammar':{'definition':'x',"
       "'syntax':'lark'}}}}]}"),
    OK("tools custom text format",
       "{'tools':[{'type':'custom','custom':{'name':'c','format':{'type':"
       "'text'}}}]}"),
    BAD("tools custom grammar syntax",
        "{'tools':[{'type':'custom','custom':{'name':'c','format':{'type':"
        "'grammar','grammar':{'definition':'x','syntax':'peg'}}}}]}",
        "tools[0].custom.format.grammar.syntax", "invalid_value"),
    BAD("tools custom name missing",
        "{'tools':[{'type':'custom','custom':{}}]}", "tools[0].custom.name",
        "missing_required_parameter"),
    BAD("tools function name missing",
        "{'tools':[{'type':'function','function':{'description':'d'}}]}",
        "tools[0].function.name", "missing_required_parameter"),
    BADM("tools function name space",
         "{'tools':[" FN_TOOL ",{'type':'function','function':{'name':"
         "'get weather'}}]}",
         "tools[1].function.name", "invalid_value",
         "Invalid 'tools[1].function.name': string does not match pattern. "
         "Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'."),
    BAD("tools function name 65",
        "{'tools':[{'type':'function','function':{'name':'" A64 "a'}}]}",
        "tools[0].function.name", "string_above_max_length"),
    BAD("tools function name empty",
        "{'tools':[{'type':'function','function':{'name':''}}]}",
        "tools[0].function.name", "empty_string"),
    BAD("tools function missing", "{'tools':[{'type':'function'}]}",
        "tools[0].function", "missing_required_parameter"),
    BAD("tools parameters string",
        "{'tools':[{'type':'function','function':{'name':'f','parameters':"
        "'{}'}}]}",
        "tools[0].function.parameters", "invalid_type"),
    BAD("tools strict string",
        "{'tools':[{'type':'function','function':{'name':'f','strict':'y'}}]}",
        "tools[0].function.strict", "invalid_type"),
    BAD("tools type retrieval", "{'tools':[{'type':'retrieval'}]}",
        "tools[0].type", "invalid_value"),
    BAD("tools type missing", "{'tools':[{'function':{'name':'f'}}]}",
        "tools[0].type", "missing_required_parameter"),
    BAD("tools item string", "{'tools':['f']}", "tools[0]", "invalid_type"),

    /* Tool and response_format schemas: bounds that are merely huge are
     * accepted (the generator clamps them); what no value satisfies, or
     * what is beyond the generation budget, is refused naming the keyword. */
    OK("schema zod int bounds",
       "{'tools':[{'type':'function','function':{'name':'f','parameters':"
       "{'type':'object','properties':{'x':{'type':'integer','minimum':"
       "-9007199254740991,'maximum':9007199254740991}}}}}]}"),
    OK("schema 1e300 bounds",
       "{'tools':[{'type':'function','function':{'name':'f','parameters':"
       "{'type':'object','properties':{'x':{'type':'number','minimum':"
       "-1.7e308,'maximum':1e300}}}}}]}"),
    OK("schema optional recursion",
       "{'tools':[{'type':'function','function':{'name':'f','parameters':"
       "{'type':'object','properties':{'kids':{'type':'array','items':"
       "{'$ref':'#'}}}}}}]}"),
    BAD("schema minimum above maximum",
        "{'tools':[" FN_TOOL ",{'type':'function','function':{'name':'f',"
        "'parameters':{'type':'object','properties':{'x':{'type':'integer',"
        "'minimum':5,'maximum':1}}}}}]}",
        "tools[1].function.parameters.properties.x.maximum",
        "invalid_function_parameters"),
    BAD("schema no integer between exclusive bounds",
        "{'tools':[{'type':'function','function':{'name':'f','parameters':"
        "{'type':'integer','exclusiveMinimum':1,'exclusiveMaximum':2}}}]}",
        "tools[0].function.parameters.exclusiveMaximum",
        "invalid_function_parameters"),
    BAD("schema no multiple in range",
        "{'tools':[{'type':'function','function':{'name':'f','parameters':"
        "{'type':'integer','minimum':1,'maximum':6,'multipleOf':7}}}]}",
        "tools[0].function.parameters.multipleOf",
        "invalid_function_parameters"),
    BAD("schema multipleOf zero",
        "{'tools':[{'type':'function','function':{'name':'f','parameters':"
        "{'type':'number','multipleOf':0}}}]}",
        "tools[0].function.parameters.multipleOf",
        "invalid_function_parameters"),
    BAD("schema minItems above maxItems",
        "{'tools':[{'type':'function','function':{'name':'f','parameters':"
        "{'type':'array','minItems':2,'maxItems':1}}}]}",
        "tools[0].function.parameters.maxItems", "invalid_function_parameters"),
    BAD("schema minLength above maxLength",
        "{'tools':[{'type':'function','function':{'name':'f','parameters':"
        "{'type':'string','minLength':2,'maxLength':1}}}]}",
        "tools[0].function.parameters.maxLength",
        "invalid_function_parameters"),
    BAD("schema minProperties above maxProperties",
        "{'tools':[{'type':'function','function':{'name':'f','parameters':"
        "{'type':'object','minProperties':2,'maxProperties':1}}}]}",
        "tools[0].function.parameters.maxProperties",
        "invalid_function_parameters"),
    BAD("schema empty enum",
        "{'tools':[{'type':'function','function':{'name':'f','parameters':"
        "{'type':'object','properties':{'x':{'enum':[]}}}}}]}",
        "tools[0].function.parameters.properties.x.enum",
        "invalid_function_parameters"),
    BAD("schema minItems beyond the budget",
        "{'tools':[{'type':'function','function':{'name':'f','parameters':"
        "{'type':'array','minItems':3000000}}}]}",
        "tools[0].function.parameters.minItems", "invalid_function_parameters"),
    BAD("schema minLength beyond the budget",
        "{'tools':[{'type':'function','function':{'name':'f','parameters':"
        "{'type':'string','minLength':100000000}}}]}",
        "tools[0].function.parameters.minLength",
        "invalid_function_parameters"),
    BAD("schema minProperties beyond the budget",
        "{'tools':[{'type':'function','function':{'name':'f','parameters':"
        "{'type':'object','minProperties':100000000}}}]}",
        "tools[0].function.parameters.minProperties",
        "invalid_function_parameters"),
    BAD("schema required ref cycle",
        "{'tools':[{'type':'function','function':{'name':'f','parameters':"
        "{'type':'array','minItems':25,'items':{'$ref':'#'}}}}]}",
        "tools[0].function.parameters.items.$ref",
        "invalid_function_parameters"),
    BAD("schema nested sizes beyond the budget",
        "{'tools':[{'type':'function','function':{'name':'f','parameters':"
        "{'type':'array','minItems':1000,'items':{'type':'array',"
        "'minItems':1000}}}}]}",
        "tools[0].function.parameters.items.minItems",
        "invalid_function_parameters"),
    OK("schema fits one choice",
       "{'tools':[{'type':'function','function':{'name':'f','parameters':"
       "{'type':'array','minItems':1000}}}]}"),
    BAD("schema does not fit 128 choices",
        "{'n':128,'tools':[{'type':'function','function':{'name':'f',"
        "'parameters':{'type':'array','minItems':1000}}}]}",
        "tools[0].function.parameters.minItems", "invalid_function_parameters"),
    BAD("response_format schema minimum above maximum",
        "{'response_format':{'type':'json_schema','json_schema':{'name':'s',"
        "'schema':{'type':'object','properties':{'x':{'type':'number',"
        "'minimum':1e300,'maximum':-1e300}}}}}}",
        "response_format.json_schema.schema.properties.x.maximum",
        "invalid_value"),
    BAD("response_format schema ref cycle",
        "{'response_format':{'type':'json_schema','json_schema':{'name':'s',"
        "'schema':{'$defs':{'a':{'type':'object','properties':{'b':"
        "{'$ref':'#/$defs/a'}},'required':['b']}},'$ref':'#/$defs/a'}}}}",
        "response_format.json_schema.schema.$defs.a.properties.b.$ref",
        "invalid_value"),
    BAD("tools object", "{'tools':{}}", "tools", "invalid_type"),
    BAD("tools null", "{'tools':null}", "tools", "invalid_type"),
    BAD("tools function unknown key",
        "{'tools':[{'type':'function','function':{'name':'f','returns':{}}}]}",
        "tools[0].function.returns", "unknown_parameter"),

    /* tool_choice */
    OK("tool_choice none", "{'tool_choice':'none'}"),
    OK("tool_choice auto", "{'tools':[" FN_TOOL "],'tool_choice':'auto'}"),
    OK("tool_choice required",
       "{'tools':[" FN_TOOL "],'tool_choice':'required'}"),
    OK("tool_choice function",
       "{'tools':[" FN_TOOL "],'tool_choice':{'type':'function','function':"
       "{'name':'get_weather'}}}"),
    OK("tool_choice custom",
       "{'tool_choice':{'type':'custom','custom':{'name':'c'}}}"),
    OK("tool_choice allowed_tools",
       "{'tool_choice':{'type':'allowed_tools','allowed_tools':{'mode':"
       "'auto','tools':[{'type':'function','function':{'name':'f'}}]}}}"),
    BAD("tool_choice allowed_tools mode",
        "{'tool_choice':{'type':'allowed_tools','allowed_tools':{'mode':"
        "'none','tools':[]}}}",
        "tool_choice.allowed_tools.mode", "invalid_value"),
    BAD("tool_choice allowed_tools tools missing",
        "{'tool_choice':{'type':'allowed_tools','allowed_tools':{'mode':"
        "'auto'}}}",
        "tool_choice.allowed_tools.tools", "missing_required_parameter"),
    BAD("tool_choice function name missing",
        "{'tool_choice':{'type':'function','function':{}}}",
        "tool_choice.function.name", "missing_required_parameter"),
    BAD("tool_choice type bad", "{'tool_choice':{'type':'tool'}}",
        "tool_choice.type", "invalid_value"),
    BADM("tool_choice string bad", "{'tool_choice':'sometimes'}", "tool_choice",
         "invalid_value",
         "Invalid value: 'sometimes'. Supported values are: 'none', 'auto', "
         "and 'required'."),
    BAD("tool_choice number", "{'tool_choice':1}", "tool_choice",
        "invalid_type"),
    BAD("tool_choice null", "{'tool_choice':null}", "tool_choice",
        "invalid_type"),

    /* parallel_tool_calls */
    OK("parallel_tool_calls", "{'parallel_tool_calls':false}"),
    BAD("parallel_tool_calls string", "{'parallel_tool_calls':'no'}",
        "parallel_tool_calls", "invalid_type"),
    BAD("parallel_tool_calls null", "{'parallel_tool_calls':null}",
        "parallel_tool_calls", "invalid_type"),

    /* function_call and functions (deprecated) */
    OK("function_call none", "{'function_call':'none'}"),
    OK("function_call auto", "{'function_call':'auto'}"),
    OK("function_call named", "{'function_call':{'name':'f'}}"),
    BAD("function_call required", "{'function_call':'required'}",
        "function_call", "invalid_value"),
    BAD("function_call number", "{'function_call':1}", "function_call",
        "invalid_type"),
    BAD("function_call name missing", "{'function_call':{}}",
        "function_call.name", "missing_required_parameter"),
    OK("functions one",
       "{'functions':[{'name':'f','description':'d','parameters':{}}]}"),
    BAD("functions empty", "{'functions':[]}", "functions", "empty_array"),
    BAD("functions name missing", "{'functions':[{'description':'d'}]}",
        "functions[0].name", "missing_required_parameter"),
    BAD("functions name pattern", "{'functions':[{'name':'f.g'}]}",
        "functions[0].name", "invalid_value"),

    /* metadata: up to 16 string values */
    OK("metadata", "{'metadata':{'a':'b'}}"),
    OK("metadata null", "{'metadata':null}"),
    OK("metadata 16 keys",
       "{'metadata':{'k1':'v','k2':'v','k3':'v','k4':'v','k5':'v','k6':'v',"
       "'k7':'v','k8':'v','k9':'v','k10':'v','k11':'v','k12':'v','k13':'v',"
       "'k14':'v','k15':'v','k16':'v'}}"),
    BAD("metadata 17 keys",
        "{'metadata':{'k1':'v','k2':'v','k3':'v','k4':'v','k5':'v','k6':'v',"
        "'k7':'v','k8':'v','k9':'v','k10':'v','k11':'v','k12':'v','k13':'v',"
        "'k14':'v','k15':'v','k16':'v','k17':'v'}}",
        "metadata", "object_above_max_properties"),
    BAD("metadata number value", "{'metadata':{'a':1}}", "metadata.a",
        "invalid_type"),
    OK("metadata value 512", "{'metadata':{'a':'" A512 "'}}"),
    BAD("metadata value 513", "{'metadata':{'a':'" A512 "b'}}", "metadata.a",
        "string_above_max_length"),
    OK("metadata key 64", "{'metadata':{'" A64 "':'v'}}"),
    BAD("metadata key 65", "{'metadata':{'" A64 "b':'v'}}", "metadata",
        "invalid_value"),
    BAD("metadata array", "{'metadata':['a']}", "metadata", "invalid_type"),

    /* store */
    OK("store true", "{'store':true}"),
    OK("store null", "{'store':null}"),
    BAD("store string", "{'store':'x'}", "store", "invalid_type"),

    /* modalities */
    OK("modalities text", "{'modalities':['text']}"),
    OK("modalities both", "{'modalities':['text','audio']}"),
    OK("modalities null", "{'modalities':null}"),
    BADM("modalities video", "{'modalities':['text','video']}", "modalities[1]",
         "invalid_value",
         "Invalid value: 'video'. Supported values are: 'text' and 'audio'."),
    BAD("modalities string", "{'modalities':'text'}", "modalities",
        "invalid_type"),

    /* enumerations: reasoning_effort, verbosity, service_tier, retention */
    OK("reasoning_effort none", "{'reasoning_effort':'none'}"),
    OK("reasoning_effort minimal", "{'reasoning_effort':'minimal'}"),
    OK("reasoning_effort xhigh", "{'reasoning_effort':'xhigh'}"),
    OK("reasoning_effort max", "{'reasoning_effort':'max'}"),
    OK("reasoning_effort null", "{'reasoning_effort':null}"),
    BADM("reasoning_effort extreme", "{'reasoning_effort':'extreme'}",
         "reasoning_effort", "invalid_value",
         "Invalid value: 'extreme'. Supported values are: 'none', 'minimal', "
         "'low', 'medium', 'high', 'xhigh', and 'max'."),
    BAD("reasoning_effort number", "{'reasoning_effort':1}", "reasoning_effort",
        "invalid_type"),
    OK("verbosity low", "{'verbosity':'low'}"),
    OK("verbosity high", "{'verbosity':'high'}"),
    OK("verbosity null", "{'verbosity':null}"),
    BAD("verbosity loud", "{'verbosity':'loud'}", "verbosity", "invalid_value"),
    OK("service_tier auto", "{'service_tier':'auto'}"),
    OK("service_tier priority", "{'service_tier':'priority'}"),
    OK("service_tier fast", "{'service_tier':'fast'}"),
    OK("service_tier null", "{'service_tier':null}"),
    BAD("service_tier premium", "{'service_tier':'premium'}", "service_tier",
        "invalid_value"),
    BAD("service_tier case", "{'service_tier':'Auto'}", "service_tier",
        "invalid_value"),
    OK("prompt_cache_retention in_memory",
       "{'prompt_cache_retention':'in_memory'}"),
    OK("prompt_cache_retention 24h", "{'prompt_cache_retention':'24h'}"),
    OK("prompt_cache_retention null", "{'prompt_cache_retention':null}"),
    BAD("prompt_cache_retention 1h", "{'prompt_cache_retention':'1h'}",
        "prompt_cache_retention", "invalid_value"),

    /* prompt_cache_options */
    OK("prompt_cache_options",
       "{'prompt_cache_options':{'ttl':'30m','mode':'explicit'}}"),
    OK("prompt_cache_options empty", "{'prompt_cache_options':{}}"),
    BAD("prompt_cache_options ttl", "{'prompt_cache_options':{'ttl':'1h'}}",
        "prompt_cache_options.ttl", "invalid_value"),
    BAD("prompt_cache_options unknown", "{'prompt_cache_options':{'size':1}}",
        "prompt_cache_options.size", "unknown_parameter"),
    BAD("prompt_cache_options null", "{'prompt_cache_options':null}",
        "prompt_cache_options", "invalid_type"),

    /* audio */
    OK("audio", "{'audio':{'voice':'alloy','format':'wav'}}"),
    OK("audio custom voice", "{'audio':{'voice':{'id':'v1'},'format':"
                             "'pcm16'}}"),
    OK("audio null", "{'audio':null}"),
    BAD("audio format", "{'audio':{'voice':'alloy','format':'ogg'}}",
        "audio.format", "invalid_value"),
    BAD("audio voice missing", "{'audio':{'format':'mp3'}}", "audio.voice",
        "missing_required_parameter"),
    BAD("audio format missing", "{'audio':{'voice':'alloy'}}", "audio.format",
        "missing_required_parameter"),
    BAD("audio voice number", "{'audio':{'voice':1,'format':'mp3'}}",
        "audio.voice", "invalid_type"),
    BAD("audio voice extra key",
        "{'audio':{'voice':{'id':'v','speed':2},'format':'mp3'}}",
        "audio.voice.speed", "unknown_parameter"),

    /* prediction */
    OK("prediction string", "{'prediction':{'type':'content','content':'x'}}"),
    OK("prediction parts", "{'prediction':{'type':'content','content':[{"
                           "'type':'text','text':'x'}]}}"),
    OK("prediction null", "{'prediction':null}"),
    BAD("prediction type", "{'prediction':{'type':'diff','content':'x'}}",
        "prediction.type", "invalid_value"),
    BAD("prediction empty parts",
        "{'prediction':{'type':'content','content':[]}}", "prediction.content",
        "empty_array"),
    BAD("prediction content missing", "{'prediction':{'type':'content'}}",
        "prediction.content", "missing_required_parameter"),

    /* moderation */
    OK("moderation", "{'moderation':{'model':'omni-moderation-latest'}}"),
    OK("moderation policy",
       "{'moderation':{'model':'m','policy':{'input':{'mode':'score'},"
       "'output':null}}}"),
    OK("moderation null", "{'moderation':null}"),
    BAD("moderation model missing", "{'moderation':{}}", "moderation.model",
        "missing_required_parameter"),
    BAD("moderation mode",
        "{'moderation':{'model':'m','policy':{'output':{"
        "'mode':'warn'}}}}",
        "moderation.policy.output.mode", "invalid_value"),

    /* web_search_options */
    OK("web_search_options empty", "{'web_search_options':{}}"),
    OK("web_search_options size",
       "{'web_search_options':{'search_context_size':'high'}}"),
    OK("web_search_options location",
       "{'web_search_options':{'user_location':{'type':'approximate',"
       "'approximate':{'country':'GB','city':'London','region':'London',"
       "'timezone':'Europe/London'}}}}"),
    OK("web_search_options location null",
       "{'web_search_options':{'user_location':null}}"),
    BAD("web_search_options size huge",
        "{'web_search_options':{'search_context_size':'huge'}}",
        "web_search_options.search_context_size", "invalid_value"),
    BAD("web_search_options location type",
        "{'web_search_options':{'user_location':{'approximate':{}}}}",
        "web_search_options.user_location.type", "missing_required_parameter"),
    BAD("web_search_options null", "{'web_search_options':null}",
        "web_search_options", "invalid_type"),
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* Parses a case's JSON after turning its single quotes into double ones. */
static json_t *case_load(const char *text)
{
    char *copy = strdup(text);
    json_error_t jerr;
    json_t *v = NULL;
    size_t i;

    assert_non_null(copy);
    for (i = 0; copy[i] != '\0'; i++)
        if (copy[i] == '\'')
            copy[i] = '"';
    v = json_loads(copy, JSON_DECODE_ANY, &jerr);
    if (v == NULL)
        fail_msg("bad test JSON %s: %s", copy, jerr.text);
    free(copy);
    return v;
}

/* Builds the body of a case: its own JSON, or the minimal valid request
 * with the case's fields laid over it. */
static json_t *case_body(const struct vcase *tc)
{
    json_t *body = case_load(tc->json);
    json_t *base;

    if (!tc->whole) {
        base = case_load("{'model':'m','messages':[{'role':'user',"
                         "'content':'hi'}]}");
        assert_int_equal(json_object_update(base, body), 0);
        json_decref(body);
        body = base;
    }
    return body;
}

/* Runs one table case and compares the outcome with its expectation. */
static void run_case(void **state)
{
    const struct vcase *tc = *state;
    json_t *body = case_body(tc);
    struct chat_request req;
    struct api_error err;
    int rc;

    memset(&err, 0, sizeof(err));
    rc = validate_chat_request(body, &req, &err);
    if (tc->param == NULL) {
        if (rc != 0)
            fail_msg("%s: rejected, param '%s', code %s: %s", tc->name,
                     err.param, err.code ? err.code : "null", err.message);
        assert_non_null(req.messages);
    } else {
        if (rc == 0)
            fail_msg("%s: accepted, expected param '%s'", tc->name, tc->param);
        assert_int_equal(err.kind, API_ERR_INVALID_REQUEST);
        assert_string_equal(err.param, tc->param);
        assert_non_null(err.code);
        assert_string_equal(err.code, tc->code);
        if (tc->message != NULL)
            assert_string_equal(err.message, tc->message);
        /* A rejected request holds nothing to free. */
        assert_null(req.messages);
        assert_int_equal(req.nmessages, 0);
    }
    chat_request_cleanup(&req);
    json_decref(body);
}

/* Validates text (single-quoted JSON) that must be accepted. */
static json_t *accept_body(const char *text, struct chat_request *req)
{
    json_t *body = case_load(text);
    struct api_error err;

    memset(&err, 0, sizeof(err));
    if (validate_chat_request(body, req, &err) != 0)
        fail_msg("rejected: %s (%s)", err.message, err.param);
    return body;
}

/* A minimal request leaves every optional field at its default. */
static void test_defaults(void **state)
{
    struct chat_request req;
    json_t *body;

    (void)state;
    body = accept_body("{'model':'deepseek-v4','messages':[{'role':'user',"
                       "'content':'Hello!'}]}",
                       &req);
    assert_string_equal(req.model, "deepseek-v4");
    assert_int_equal(req.nmessages, 1);
    assert_string_equal(req.messages[0].role, "user");
    assert_null(req.messages[0].name);
    assert_string_equal(json_string_value(req.messages[0].content), "Hello!");
    assert_null(req.messages[0].tool_calls);
    assert_null(req.messages[0].tool_call_id);
    assert_false(req.stream);
    assert_false(req.include_usage);
    assert_false(req.has_max_tokens);
    assert_int_equal(req.n, 1);
    assert_int_equal(req.nstop, 0);
    assert_false(req.has_seed);
    assert_false(req.has_temperature);
    assert_false(req.has_top_p);
    assert_null(req.user);
    chat_request_cleanup(&req);
    json_decref(body);
}

/* Null for nullable parameters means the same as leaving them out. */
static void test_nulls_are_defaults(void **state)
{
    struct chat_request req;
    json_t *body;

    (void)state;
    body =
        accept_body("{'model':'m','messages':[{'role':'user','content':'x'}],"
                    "'n':null,'stream':null,'stop':null,'seed':null,"
                    "'max_tokens':null,'max_completion_tokens':null,"
                    "'temperature':null,'top_p':null,'stream_options':null}",
                    &req);
    assert_int_equal(req.n, 1);
    assert_false(req.stream);
    assert_int_equal(req.nstop, 0);
    assert_false(req.has_seed);
    assert_false(req.has_max_tokens);
    assert_false(req.has_temperature);
    assert_false(req.has_top_p);
    assert_false(req.include_usage);
    chat_request_cleanup(&req);
    json_decref(body);
}

/* Every scalar the handler reads is copied out of a full request. */
static void test_fields_filled(void **state)
{
    struct chat_request req;
    json_t *body;

    (void)state;
    body =
        accept_body("{'model':'qwen-max','messages':[{'role':'user','content':"
                    "'x'}],'n':3,'stop':['a','bb','ccc','dddd'],"
                    "'max_tokens':10,'max_completion_tokens':50,'stream':true,"
                    "'stream_options':{'include_usage':true},"
                    "'seed':-9223372036854775808,'temperature':0.5,"
                    "'top_p':0.25,'user':'u-1'}",
                    &req);
    assert_string_equal(req.model, "qwen-max");
    assert_int_equal(req.n, 3);
    assert_int_equal(req.nstop, 4);
    assert_string_equal(req.stop[0], "a");
    assert_string_equal(req.stop[1], "bb");
    assert_string_equal(req.stop[2], "ccc");
    assert_string_equal(req.stop[3], "dddd");
    assert_true(req.has_max_tokens);
    assert_true(req.max_tokens == 50);
    assert_true(req.stream);
    assert_true(req.include_usage);
    assert_true(req.has_seed);
    assert_true(req.seed == INT64_MIN);
    assert_true(req.has_temperature);
    assert_true(req.temperature == 0.5);
    assert_true(req.has_top_p);
    assert_true(req.top_p == 0.25);
    assert_string_equal(req.user, "u-1");
    chat_request_cleanup(&req);
    json_decref(body);
}

/* max_tokens alone is used; a single stop string becomes one entry. */
static void test_max_tokens_and_stop_string(void **state)
{
    struct chat_request req;
    json_t *body;

    (void)state;
    body =
        accept_body("{'model':'m','messages':[{'role':'user','content':'x'}],"
                    "'max_tokens':1024,'stop':'END','seed':42,'n':128,"
                    "'stream':true,'stream_options':{'include_usage':false}}",
                    &req);
    assert_true(req.has_max_tokens);
    assert_true(req.max_tokens == 1024);
    assert_int_equal(req.nstop, 1);
    assert_string_equal(req.stop[0], "END");
    assert_true(req.seed == 42);
    assert_int_equal(req.n, 128);
    assert_true(req.stream);
    assert_false(req.include_usage);
    chat_request_cleanup(&req);
    json_decref(body);
}

/* max_completion_tokens alone is used as max_tokens. */
static void test_max_completion_tokens_alone(void **state)
{
    struct chat_request req;
    json_t *body;

    (void)state;
    body =
        accept_body("{'model':'m','messages':[{'role':'user','content':'x'}],"
                    "'max_completion_tokens':7,'max_tokens':null}",
                    &req);
    assert_true(req.has_max_tokens);
    assert_true(req.max_tokens == 7);
    chat_request_cleanup(&req);
    json_decref(body);
}

/* Each message's pointers borrow the right parts of the body. */
static void test_messages_filled(void **state)
{
    struct chat_request req;
    json_t *body, *msgs;

    (void)state;
    body =
        accept_body("{'model':'m','messages':[{'role':'system','content':'s',"
                    "'name':'sys'},{'role':'user','content':[{'type':'text',"
                    "'text':'t'}]}," TOOL_TURN ",{'role':'tool','content':'r',"
                    "'tool_call_id':'c1'},{'role':'function','name':'f',"
                    "'content':null}]}",
                    &req);
    msgs = json_object_get(body, "messages");
    assert_int_equal(req.nmessages, 6);
    assert_string_equal(req.messages[0].role, "system");
    assert_string_equal(req.messages[0].name, "sys");
    assert_ptr_equal(req.messages[0].content,
                     json_object_get(json_array_get(msgs, 0), "content"));
    assert_string_equal(req.messages[1].role, "user");
    assert_true(json_is_array(req.messages[1].content));
    assert_string_equal(req.messages[3].role, "assistant");
    assert_null(req.messages[3].content);
    assert_ptr_equal(req.messages[3].tool_calls,
                     json_object_get(json_array_get(msgs, 3), "tool_calls"));
    assert_string_equal(req.messages[4].role, "tool");
    assert_string_equal(req.messages[4].tool_call_id, "c1");
    assert_null(req.messages[4].tool_calls);
    assert_string_equal(req.messages[5].role, "function");
    assert_string_equal(req.messages[5].name, "f");
    assert_null(req.messages[5].content);
    chat_request_cleanup(&req);
    json_decref(body);
}

/* Cleanup is safe on a zeroed struct and when called twice. */
static void test_cleanup_safe(void **state)
{
    struct chat_request req;

    (void)state;
    memset(&req, 0, sizeof(req));
    chat_request_cleanup(&req);
    chat_request_cleanup(&req);
    assert_null(req.messages);
}

/* A failure after messages were accepted frees them and resets req. */
static void test_failure_after_messages(void **state)
{
    struct chat_request req;
    struct api_error err;
    json_t *body;

    (void)state;
    body = case_load("{'model':'m','messages':[{'role':'user','content':"
                     "'x'}],'n':5,'stop':'x','temperature':9}");
    memset(&err, 0, sizeof(err));
    assert_int_equal(validate_chat_request(body, &req, &err), -1);
    assert_string_equal(err.param, "temperature");
    assert_null(req.messages);
    assert_int_equal(req.n, 1);
    assert_int_equal(req.nstop, 0);
    assert_null(req.model);
    chat_request_cleanup(&req);
    json_decref(body);
}

/* A NULL body is reported like any other non-object. */
static void test_null_pointer_body(void **state)
{
    struct chat_request req;
    struct api_error err;

    (void)state;
    memset(&err, 0, sizeof(err));
    assert_int_equal(validate_chat_request(NULL, &req, &err), -1);
    assert_string_equal(err.param, "");
    assert_string_equal(err.code, "invalid_type");
    chat_request_cleanup(&req);
}

/* functions takes at most 128 entries: 128 pass and 129 fail. */
static void test_functions_limit(void **state)
{
    struct chat_request req;
    struct api_error err;
    json_t *body, *fns;
    size_t i;

    (void)state;
    body = case_load("{'model':'m','messages':[{'role':'user','content':"
                     "'x'}],'functions':[]}");
    fns = json_object_get(body, "functions");
    for (i = 0; i < 128; i++)
        assert_int_equal(
            json_array_append_new(fns, json_pack("{s:s}", "name", "f")), 0);
    memset(&err, 0, sizeof(err));
    assert_int_equal(validate_chat_request(body, &req, &err), 0);
    chat_request_cleanup(&req);
    assert_int_equal(
        json_array_append_new(fns, json_pack("{s:s}", "name", "f")), 0);
    assert_int_equal(validate_chat_request(body, &req, &err), -1);
    assert_string_equal(err.param, "functions");
    assert_string_equal(err.code, "array_above_max_length");
    chat_request_cleanup(&req);
    json_decref(body);
}

/* Tells whether param is name itself or an item or property inside it. */
static bool param_names(const char *param, const char *name)
{
    size_t n = strlen(name);

    return strncmp(param, name, n) == 0 &&
           (param[n] == '\0' || param[n] == '[' || param[n] == '.');
}

/* Every parameter listed in the excerpt is known: giving each one a wrong
 * type must be a type error, never an unknown parameter. */
static void test_every_parameter_known(void **state)
{
    static const char *const names[] = {
        "audio",
        "frequency_penalty",
        "function_call",
        "functions",
        "logit_bias",
        "logprobs",
        "max_completion_tokens",
        "max_tokens",
        "messages",
        "metadata",
        "modalities",
        "model",
        "moderation",
        "n",
        "parallel_tool_calls",
        "prediction",
        "presence_penalty",
        "prompt_cache_key",
        "prompt_cache_options",
        "prompt_cache_retention",
        "reasoning_effort",
        "response_format",
        "safety_identifier",
        "seed",
        "service_tier",
        "stop",
        "store",
        "stream",
        "stream_options",
        "temperature",
        "tool_choice",
        "tools",
        "top_logprobs",
        "top_p",
        "user",
        "verbosity",
        "web_search_options",
    };
    struct chat_request req;
    struct api_error err;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        json_t *body = case_load("{'model':'m','messages':[{'role':'user',"
                                 "'content':'x'}],'stream':true}");
        /* No parameter takes an array of arrays, so each must fail with
         * a param that names it (or one of its items). */
        assert_int_equal(
            json_object_set_new(body, names[i], json_pack("[[i]]", 1)), 0);
        memset(&err, 0, sizeof(err));
        assert_int_equal(validate_chat_request(body, &req, &err), -1);
        assert_string_not_equal(err.code, "unknown_parameter");
        assert_true(param_names(err.param, names[i]));
        chat_request_cleanup(&req);
        json_decref(body);
    }
}

/* Checking schemas costs at most one request's budget, however many tools
 * carry them: the smallest values of all tools share one pool. */
static void test_schema_pool(void **state)
{
    static const struct budget_limits lim = {1000, 1u << 20, 32};
    json_t *body = case_load("{'model':'m','messages':[{'role':'user',"
                             "'content':'hi'}]}");
    json_t *tools = json_array();
    struct chat_request req;
    struct api_error err;
    size_t i;

    (void)state;
    /* Each smallest value is ["mock",...] six times: 7 values, 25 tokens. */
    for (i = 0; i < 100; i++)
        json_array_append_new(tools, json_pack("{s:s, s:{s:s, s:{s:s, s:i}}}",
                                               "type", "function", "function",
                                               "name", "f", "parameters",
                                               "type", "array", "minItems", 6));
    json_object_set_new(body, "tools", tools);
    memset(&err, 0, sizeof(err));
    assert_int_equal(validate_chat_request_within(body, &lim, &req, &err), -1);
    /* The values of the 32nd fit what is left, its tokens do not. */
    assert_string_equal(err.param, "tools[31].function.parameters");
    assert_string_equal(err.code, "invalid_function_parameters");
    /* One of them alone fits, under the same limits. */
    assert_int_equal(json_array_remove(tools, 1), 0);
    while (json_array_size(tools) > 1)
        json_array_remove(tools, 1);
    assert_int_equal(validate_chat_request_within(body, &lim, &req, &err), 0);
    assert_ptr_equal(req.limits, &lim);
    chat_request_cleanup(&req);
    json_decref(body);
}

/* A budget error says what the limits are and which flags change them. */
static void test_schema_budget_message(void **state)
{
    json_t *body = case_load(
        "{'model':'m','messages':[{'role':'user','content':'hi'}],'tools':"
        "[{'type':'function','function':{'name':'get_weather','parameters':"
        "{'type':'array','minItems':3000000}}}]}");
    struct chat_request req;
    struct api_error err;

    (void)state;
    memset(&err, 0, sizeof(err));
    assert_int_equal(validate_chat_request(body, &req, &err), -1);
    assert_string_equal(
        err.message,
        "Invalid schema for function 'get_weather': minItems 3000000 is more "
        "than this request may generate (8192). The mock generates at most "
        "8192 JSON values and 262144 bytes per request, divided among its "
        "choices and shared by every schema it carries (--max-gen-nodes, "
        "--max-gen-bytes).");
    json_decref(body);
}

static const struct CMUnitTest fixed_tests[] = {
    cmocka_unit_test(test_schema_pool),
    cmocka_unit_test(test_schema_budget_message),
    cmocka_unit_test(test_defaults),
    cmocka_unit_test(test_nulls_are_defaults),
    cmocka_unit_test(test_fields_filled),
    cmocka_unit_test(test_max_tokens_and_stop_string),
    cmocka_unit_test(test_max_completion_tokens_alone),
    cmocka_unit_test(test_messages_filled),
    cmocka_unit_test(test_cleanup_safe),
    cmocka_unit_test(test_failure_after_messages),
    cmocka_unit_test(test_null_pointer_body),
    cmocka_unit_test(test_functions_limit),
    cmocka_unit_test(test_every_parameter_known),
};

#define NFIXED (sizeof(fixed_tests) / sizeof(fixed_tests[0]))

int main(void)
{
    struct CMUnitTest tests[NCASES + NFIXED];
    size_t i;

    for (i = 0; i < NCASES; i++) {
        tests[i].name = cases[i].name;
        tests[i].test_func = run_case;
        tests[i].setup_func = NULL;
        tests[i].teardown_func = NULL;
        tests[i].initial_state = (void *)&cases[i];
    }
    for (i = 0; i < NFIXED; i++)
        tests[NCASES + i] = fixed_tests[i];
    return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
