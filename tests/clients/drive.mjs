#!/usr/bin/env node
// drive.mjs: runs one real OpenAI-compatible client (the openai package, the
// Vercel AI SDK with @ai-sdk/openai-compatible, or LangChain.js) through one
// scenario against a base URL and says, as one JSON line, what the client
// did: works, throws, hangs or loses-data, with what its user would see.
//
// Used as a program (see usage() below) by the C process test
// mockserver/tests/test_clients.c, and as a module by matrix.mjs.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

import OpenAI from 'openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, jsonSchema, Output, streamText, tool } from 'ai';
import { ChatOpenAI } from '@langchain/openai';

export const CLIENTS = ['openai', 'ai-sdk', 'langchain'];
export const SCENARIOS = [
    'chat', // one non-streamed completion
    'stream', // a streamed completion, usage not asked for
    'stream-usage', // a streamed completion with include_usage
    'tools', // a forced function call, not streamed
    'tools-stream', // a forced function call, streamed
    'json', // response_format json_object
    'models-list', // GET /models through the client's own API
    'models-retrieve', // GET /models/{id} through the client's own API
    'balance', // GET /balance with plain fetch (no client has an API for it)
];

// The installed versions, read from the packages themselves.
export const VERSIONS = Object.fromEntries(
    ['openai', 'ai', '@ai-sdk/openai-compatible', '@langchain/openai',
        '@langchain/core'].map((name) => [name, packageVersion(name)]));

// What each client column stands for.
export const CLIENT_PACKAGES = {
    'openai': `openai ${VERSIONS.openai}`,
    'ai-sdk': `ai ${VERSIONS.ai} + @ai-sdk/openai-compatible ${
        VERSIONS['@ai-sdk/openai-compatible']}`,
    'langchain': `@langchain/openai ${VERSIONS['@langchain/openai']} + ` +
        `@langchain/core ${VERSIONS['@langchain/core']}`,
};

// The one function every tool-call scenario forces.
const WEATHER = {
    name: 'get_weather',
    description: 'Get the current weather in a city',
    parameters: {
        type: 'object',
        properties: {
            city: { type: 'string', description: 'The city' },
            unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        },
        required: ['city', 'unit'],
        additionalProperties: false,
    },
};

// How much of each answer's bytes a result keeps (for reading, not judging).
const KEEP_BYTES = 4096;

function packageVersion(name) {
    const url = new URL(`node_modules/${name}/package.json`, import.meta.url);
    return JSON.parse(readFileSync(url, 'utf8')).version;
}

// Watches every HTTP attempt a client makes through the fetch it is given:
// what was sent, the status, when the body ended, and whether an attempt
// outlived the bound (a hang), in which case it aborts the run. A client
// that waits longer than backoffMs between two attempts hangs too.
class Recorder {
    constructor(boundMs, backoffMs, controller) {
        this.boundMs = boundMs;
        this.backoffMs = backoffMs;
        this.controller = controller;
        this.t0 = performance.now();
        this.attempts = [];
        this.hung = null; // {attempt, phase} once a bound was passed
        this.timer = null;
        this.idle = null;
        this.fetch = this.fetch.bind(this);
    }

    now() {
        return Math.round(performance.now() - this.t0);
    }

    // Declares a hang: where it happened, then aborts whatever is running.
    hang(phase) {
        if (this.hung === null) {
            this.hung = { attempt: this.attempts.length - 1, phase,
                at_ms: this.now() };
            this.controller.abort(new Error(`nexus: gave up (${phase})`));
        }
    }

    // Each attempt has boundMs to finish, headers and body; a client that
    // starts a new attempt has moved on from the previous one.
    arm(a) {
        clearTimeout(this.timer);
        clearTimeout(this.idle);
        this.timer = setTimeout(() => {
            if (a.end_ms === null)
                this.hang(a.status === null ? 'headers' : 'body');
        }, this.boundMs);
    }

    finish(a, err) {
        if (a.end_ms === null) {
            a.end_ms = this.now();
            if (a === this.attempts[this.attempts.length - 1]) {
                clearTimeout(this.timer);
                clearTimeout(this.idle);
                this.idle = setTimeout(() => this.hang('backoff'),
                    this.backoffMs);
            }
            if (err !== undefined && a.error === null)
                a.error = String(err?.name ?? err);
        }
    }

    async fetch(input, init = {}) {
        const isRequest = typeof Request !== 'undefined' &&
            input instanceof Request;
        const url = new URL(isRequest ? input.url : String(input));
        const headers = new Headers(init.headers ??
            (isRequest ? input.headers : undefined));
        const a = {
            method: init.method ?? (isRequest ? input.method : 'GET'),
            path: url.pathname + url.search,
            authorization: headers.get('authorization'),
            retry_count: headers.get('x-stainless-retry-count'),
            idempotency_key: headers.get('idempotency-key'),
            body: typeof init.body === 'string' ? init.body : null,
            start_ms: this.now(),
            headers_ms: null,
            end_ms: null,
            status: null,
            retry_after: null,
            retry_after_ms: null,
            content_type: null,
            bytes: 0,
            head: '',
            error: null,
        };
        this.attempts.push(a);
        this.arm(a);
        let res;
        try {
            res = await fetch(input, init);
        } catch (e) {
            this.finish(a, e);
            throw e;
        }
        a.headers_ms = this.now();
        a.status = res.status;
        a.retry_after = res.headers.get('retry-after');
        a.retry_after_ms = res.headers.get('retry-after-ms');
        a.content_type = res.headers.get('content-type');
        if (res.body === null) {
            this.finish(a);
            return res;
        }
        const reader = res.body.getReader();
        const decoder = new TextDecoder('utf-8', { fatal: false });
        const rec = this;
        const body = new ReadableStream({
            async pull(ctrl) {
                try {
                    const { done, value } = await reader.read();
                    if (done) {
                        rec.finish(a);
                        ctrl.close();
                        return;
                    }
                    if (a.head.length < KEEP_BYTES)
                        a.head += decoder.decode(
                            value.subarray(0, KEEP_BYTES), { stream: true });
                    a.bytes += value.length;
                    ctrl.enqueue(value);
                } catch (e) {
                    rec.finish(a, e);
                    ctrl.error(e);
                }
            },
            cancel(reason) {
                rec.finish(a, 'cancelled');
                return reader.cancel(reason);
            },
        });
        return new Response(body, { status: res.status,
            statusText: res.statusText, headers: res.headers });
    }

    close() {
        clearTimeout(this.timer);
        clearTimeout(this.idle);
    }
}

// The fields of an error a report needs, whatever the client threw.
function describeError(e) {
    const inner = e?.lastError ?? e?.cause ?? null;
    const status = e?.status ?? e?.statusCode ?? e?.response?.status ??
        inner?.status ?? inner?.statusCode ?? null;
    return {
        name: String(e?.name ?? typeof e),
        class: e?.constructor?.name ?? null,
        message: String(e?.message ?? e).slice(0, 400),
        status: typeof status === 'number' ? status : null,
    };
}

// What an AI SDK stream's error part carried, as an error to report: the
// error itself when it is one (an HTTP failure, a parse error), else a
// StreamErrorPart saying what the part held (the SDK makes one of a chunk's
// "error" member, even a null one).
function streamError(part) {
    if (part instanceof Error)
        return part;
    const e = new Error(`the stream yielded an error part: ${
        JSON.stringify(part) ?? String(part)}`);
    e.name = 'StreamErrorPart';
    return e;
}

// OpenAI's names for the AI SDK's finish reasons.
function openaiFinish(reason) {
    const names = { 'tool-calls': 'tool_calls',
        'content-filter': 'content_filter' };
    return reason == null ? null : (names[reason] ?? reason);
}

function parseObject(text) {
    try {
        const v = JSON.parse(text);
        return v !== null && typeof v === 'object' && !Array.isArray(v) ?
            v : null;
    } catch {
        return null;
    }
}

// A tool call as the report shows it: arguments as text and parsed.
function toolCall(id, name, args) {
    const text = typeof args === 'string' ? args : JSON.stringify(args);
    return { id: id ?? null, name: name ?? null, arguments: text ?? null,
        arguments_parsed: typeof args === 'string' ? parseObject(args) :
            (args ?? null) };
}

function usageOf(prompt, completion, total) {
    if (prompt == null && completion == null && total == null)
        return null;
    return { prompt_tokens: prompt ?? null,
        completion_tokens: completion ?? null, total_tokens: total ?? null };
}

// What a user of the openai package sees of a completion.
function seenOpenAICompletion(r) {
    const choices = (r?.choices ?? []).map((c) => ({
        content: c?.message?.content ?? null,
        finish_reason: c?.finish_reason ?? null,
        tool_calls: (c?.message?.tool_calls ?? []).map((t) =>
            toolCall(t?.id, t?.function?.name, t?.function?.arguments)),
    }));
    return { ...(choices[0] ?? { content: null, finish_reason: null,
        tool_calls: [] }), choices,
        usage: r?.usage ? usageOf(r.usage.prompt_tokens,
            r.usage.completion_tokens, r.usage.total_tokens) : null,
        model: r?.model ?? null, id: r?.id ?? null };
}

// What a user of the openai package sees of a stream, read as its README
// shows: every chunk, content and tool-call deltas appended per choice.
async function seenOpenAIStream(stream) {
    const choices = [];
    let usage = null, model = null, id = null, chunks = 0;
    for await (const chunk of stream) {
        chunks++;
        model ??= chunk?.model ?? null;
        id ??= chunk?.id ?? null;
        if (chunk?.usage)
            usage = usageOf(chunk.usage.prompt_tokens,
                chunk.usage.completion_tokens, chunk.usage.total_tokens);
        for (const c of chunk?.choices ?? []) {
            const i = Number.isInteger(c?.index) ? c.index : 0;
            const slot = choices[i] ??= { content: null, finish_reason: null,
                tool_calls: [] };
            const delta = c?.delta ?? {};
            if (delta.content != null)
                slot.content = (slot.content ?? '') + delta.content;
            for (const t of delta.tool_calls ?? []) {
                const k = Number.isInteger(t?.index) ? t.index : 0;
                const tc = slot.tool_calls[k] ??= { id: null, name: null,
                    arguments: '' };
                tc.id ??= t?.id ?? null;
                tc.name ??= t?.function?.name ?? null;
                tc.arguments += t?.function?.arguments ?? '';
            }
            if (c?.finish_reason != null)
                slot.finish_reason = c.finish_reason;
        }
    }
    for (const slot of choices.filter(Boolean))
        slot.tool_calls = slot.tool_calls.filter(Boolean).map((t) =>
            toolCall(t.id, t.name, t.arguments));
    const first = choices[0] ?? { content: null, finish_reason: null,
        tool_calls: [] };
    return { ...first, choices, usage, model, id, chunks };
}

async function runOpenAI(o, rec, signal) {
    const client = new OpenAI({ baseURL: o.baseURL, apiKey: o.apiKey,
        maxRetries: o.maxRetries, fetch: rec.fetch,
        ...(o.clientTimeoutMs ? { timeout: o.clientTimeoutMs } : {}) });
    const opts = { signal };
    const base = { model: o.model, messages: o.messages, ...o.params };
    const tools = { tools: [{ type: 'function', function: WEATHER }],
        tool_choice: { type: 'function', function: { name: WEATHER.name } } };
    switch (o.scenario) {
    case 'chat':
        return seenOpenAICompletion(
            await client.chat.completions.create(base, opts));
    case 'json':
        return seenOpenAICompletion(await client.chat.completions.create(
            { ...base, response_format: { type: 'json_object' } }, opts));
    case 'tools':
        return seenOpenAICompletion(
            await client.chat.completions.create({ ...base, ...tools }, opts));
    case 'stream':
    case 'stream-usage':
    case 'tools-stream':
        return seenOpenAIStream(await client.chat.completions.create({
            ...base, stream: true,
            ...(o.scenario === 'stream-usage' ?
                { stream_options: { include_usage: true } } : {}),
            ...(o.scenario === 'tools-stream' ? tools : {}) }, opts));
    case 'models-list': {
        const models = [];
        for await (const m of client.models.list(opts))
            models.push(m?.id ?? null);
        return { models };
    }
    case 'models-retrieve':
        return { model_object: await client.models.retrieve(o.model, opts) };
    }
    return null;
}

// The AI SDK's call settings for the request parameters it has names for;
// the rest go into the body through providerOptions.
function aiSettings(params) {
    const names = { temperature: 'temperature', top_p: 'topP',
        max_tokens: 'maxOutputTokens', frequency_penalty: 'frequencyPenalty',
        presence_penalty: 'presencePenalty', seed: 'seed',
        stop: 'stopSequences' };
    const settings = {}, extra = {};
    for (const [k, v] of Object.entries(params)) {
        if (k in names)
            settings[names[k]] = k === 'stop' && typeof v === 'string' ?
                [v] : v;
        else
            extra[k] = v;
    }
    return { ...settings, providerOptions: { nexus: extra } };
}

function aiUsage(u) {
    return u ? usageOf(u.inputTokens, u.outputTokens, u.totalTokens) : null;
}

async function runAISDK(o, rec, signal) {
    const provider = createOpenAICompatible({ name: 'nexus',
        baseURL: o.baseURL, apiKey: o.apiKey, fetch: rec.fetch,
        includeUsage: o.scenario === 'stream-usage' });
    const call = { model: provider.chatModel(o.model), messages: o.messages,
        maxRetries: o.maxRetries, abortSignal: signal,
        ...aiSettings(o.params) };
    const tools = { tools: { [WEATHER.name]: tool({
        description: WEATHER.description,
        inputSchema: jsonSchema(WEATHER.parameters) }) },
    toolChoice: { type: 'tool', toolName: WEATHER.name } };
    switch (o.scenario) {
    case 'chat':
    case 'json':
    case 'tools': {
        const r = await generateText({ ...call,
            ...(o.scenario === 'tools' ? tools : {}),
            ...(o.scenario === 'json' ? { output: Output.json() } : {}) });
        return { content: r.text, finish_reason: openaiFinish(r.finishReason),
            finish_reason_raw: r.rawFinishReason ?? null,
            tool_calls: r.toolCalls.map((t) =>
                toolCall(t.toolCallId, t.toolName, t.input)),
            usage: aiUsage(r.usage), model: r.response?.modelId ?? null,
            id: r.response?.id ?? null };
    }
    case 'stream':
    case 'stream-usage':
    case 'tools-stream': {
        const r = streamText({ ...call,
            ...(o.scenario === 'tools-stream' ? tools : {}),
            onError: () => {} });
        const seen = { content: null, finish_reason: null,
            finish_reason_raw: null, tool_calls: [], usage: null,
            parts: 0, error: null };
        for await (const part of r.fullStream) {
            seen.parts++;
            if (part.type === 'text-delta')
                seen.content = (seen.content ?? '') + part.text;
            else if (part.type === 'tool-call')
                seen.tool_calls.push(
                    toolCall(part.toolCallId, part.toolName, part.input));
            else if (part.type === 'finish') {
                seen.finish_reason = openaiFinish(part.finishReason);
                seen.finish_reason_raw = part.rawFinishReason ?? null;
                seen.usage = aiUsage(part.totalUsage);
            } else if (part.type === 'error' && seen.error === null)
                seen.error = { part: part.error }; // even "error": null
        }
        return seen;
    }
    }
    return { unsupported: 'the AI SDK has no models or balance API' };
}

// LangChain's constructor fields for the request parameters it names; the
// rest go into the body through modelKwargs.
function langchainFields(params) {
    const names = { temperature: 'temperature', top_p: 'topP',
        max_tokens: 'maxTokens', frequency_penalty: 'frequencyPenalty',
        presence_penalty: 'presencePenalty', n: 'n', stop: 'stop' };
    const fields = {}, extra = {};
    for (const [k, v] of Object.entries(params)) {
        if (k in names)
            fields[names[k]] = v;
        else
            extra[k] = v;
    }
    return { ...fields, modelKwargs: extra };
}

// What a LangChain user sees of an AIMessage (or of the chunks of a stream
// concatenated, as LangChain's docs do).
function seenLangChain(m) {
    const u = m?.usage_metadata;
    const content = typeof m?.content === 'string' ? m.content :
        JSON.stringify(m?.content ?? null);
    return {
        content: content === '' && (m?.tool_calls?.length ?? 0) > 0 ?
            null : content,
        finish_reason: m?.response_metadata?.finish_reason ?? null,
        tool_calls: (m?.tool_calls ?? []).map((t) =>
            toolCall(t.id, t.name, t.args)),
        invalid_tool_calls: (m?.invalid_tool_calls ?? []).map((t) =>
            toolCall(t.id, t.name, t.args)),
        usage: u ? usageOf(u.input_tokens, u.output_tokens, u.total_tokens) :
            null,
        model: m?.response_metadata?.model_name ?? null,
        id: m?.id ?? null,
    };
}

async function runLangChain(o, rec, signal) {
    const llm = new ChatOpenAI({ model: o.model, apiKey: o.apiKey,
        maxRetries: o.maxRetries,
        streamUsage: o.scenario === 'stream-usage',
        configuration: { baseURL: o.baseURL, fetch: rec.fetch },
        ...(o.clientTimeoutMs ? { timeout: o.clientTimeoutMs } : {}),
        ...langchainFields(o.params) });
    const messages = o.messages.map((m) => [m.role, m.content]);
    const toolSpec = [{ type: 'function', function: WEATHER }];
    const force = { tool_choice: { type: 'function',
        function: { name: WEATHER.name } } };
    switch (o.scenario) {
    case 'chat':
        return seenLangChain(await llm.invoke(messages, { signal }));
    case 'json':
        return seenLangChain(await llm.invoke(messages, { signal,
            response_format: { type: 'json_object' } }));
    case 'tools':
        return seenLangChain(await llm.bindTools(toolSpec, force)
            .invoke(messages, { signal }));
    case 'stream':
    case 'stream-usage':
    case 'tools-stream': {
        const runnable = o.scenario === 'tools-stream' ?
            llm.bindTools(toolSpec, force) : llm;
        let acc = null, chunks = 0;
        for await (const chunk of await runnable.stream(messages, { signal })) {
            chunks++;
            acc = acc === null ? chunk : acc.concat(chunk);
        }
        return { ...seenLangChain(acc), chunks };
    }
    }
    return { unsupported: 'LangChain has no models or balance API' };
}

// GET /balance with plain fetch, as an application would.
async function runBalance(o, rec, signal) {
    const res = await rec.fetch(`${o.baseURL.replace(/\/$/, '')}/balance`,
        { headers: { Authorization: `Bearer ${o.apiKey}` }, signal });
    const text = await res.text();
    if (!res.ok) {
        const e = new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
        e.name = 'HTTPError';
        e.status = res.status;
        throw e;
    }
    return { balance: JSON.parse(text) };
}

// Compares what the user saw with what the server meant to say (expect:
// content, finish_reason, usage, tool_calls, models, as far as given).
// Returns the differences, as sentences.
export function losses(seen, expect) {
    const lost = [];
    const show = (v) => JSON.stringify(v)?.slice(0, 120);
    if (!expect || !seen)
        return lost;
    if ('content' in expect && (seen.content ?? '') !== (expect.content ?? ''))
        lost.push(`content ${show(seen.content)} instead of ${
            show(expect.content)}`);
    const standard = ['stop', 'length', 'tool_calls', 'content_filter',
        'function_call'];
    if ('finish_reason' in expect && standard.includes(expect.finish_reason) &&
        seen.finish_reason !== expect.finish_reason)
        lost.push(`finish_reason ${show(seen.finish_reason)} instead of ${
            show(expect.finish_reason)}`);
    if (expect.usage) {
        const u = seen.usage ?? {};
        for (const k of ['prompt_tokens', 'completion_tokens', 'total_tokens'])
            if (Number.isInteger(expect.usage[k]) && u[k] !== expect.usage[k])
                lost.push(`usage.${k} ${show(u[k] ?? null)} instead of ${
                    expect.usage[k]}`);
    }
    if (expect.tool_calls) {
        const got = seen.tool_calls ?? [];
        expect.tool_calls.forEach((t, i) => {
            const g = got[i];
            if (!g || g.name !== t.name ||
                JSON.stringify(g.arguments_parsed) !==
                    JSON.stringify(parseObject(t.arguments)))
                lost.push(`tool call ${i} ${show(g ? [g.name, g.arguments] :
                    null)} instead of ${show([t.name, t.arguments])}`);
        });
    }
    if ('models' in expect && expect.models === null && seen.models)
        lost.push(`shows the model list ${show(seen.models)} from an answer ` +
            'that is not one');
    else if (expect.models && show(seen.models) !== show(expect.models))
        lost.push(`models ${show(seen.models)} instead of ${
            show(expect.models)}`);
    return lost;
}

const RUNNERS = { 'openai': runOpenAI, 'ai-sdk': runAISDK,
    'langchain': runLangChain };

// Runs one scenario with one client. o: {client, baseURL, apiKey, scenario,
// model, prompt | messages, params, timeoutMs (per HTTP attempt), backoffMs
// (the longest wait between attempts), totalMs, maxRetries, repeat,
// clientTimeoutMs, expect}. Never throws: whatever
// happened is in the result.
export async function drive(o) {
    o = { model: 'deepseek-v4', prompt: 'Say hello in five words',
        params: {}, timeoutMs: 5000, maxRetries: 2, repeat: 1, ...o };
    o.backoffMs ??= o.timeoutMs;
    o.messages ??= [{ role: 'user', content: o.prompt }];
    o.totalMs ??= (o.timeoutMs + o.backoffMs) * (o.maxRetries + 1) * o.repeat +
        5000;
    const result = { client: o.client, package: CLIENT_PACKAGES[o.client],
        scenario: o.scenario, outcome: null, error: null, status: null,
        seen: null, lost: [], elapsed_ms: null, calls: 0, retries: 0,
        retry_waits_ms: [], retry_count_headers: [], hang: null,
        requests: [] };
    const controller = new AbortController();
    const rec = new Recorder(o.timeoutMs, o.backoffMs, controller);
    const run = o.scenario === 'balance' ? runBalance : RUNNERS[o.client];
    let overall, backstop;
    // A client that ignores the abort still cannot keep the run: two
    // seconds after a hang is declared, the run ends anyway.
    const stop = new Promise((resolve) => {
        overall = setTimeout(() => {
            rec.hang(rec.attempts.some((a) => a.end_ms === null) ?
                'total' : 'backoff');
        }, o.totalMs);
        controller.signal.addEventListener('abort', () => {
            backstop = setTimeout(() => resolve({ stuck: true }), 2000);
        });
    });
    let thrown = null;
    try {
        if (!CLIENTS.includes(o.client) || !SCENARIOS.includes(o.scenario))
            throw new Error(`unknown client or scenario: ${o.client} ${
                o.scenario}`);
        for (let i = 0; i < o.repeat; i++) {
            result.calls++;
            const r = await Promise.race([run(o, rec, controller.signal),
                stop]);
            if (r?.stuck) {
                result.seen = null;
                break;
            }
            result.seen = r;
            if (r?.error)
                throw streamError(r.error.part);
        }
    } catch (e) {
        thrown = e;
    }
    clearTimeout(overall);
    clearTimeout(backstop);
    rec.close();
    result.elapsed_ms = rec.now();
    const attempts = rec.attempts;
    result.requests = attempts;
    result.status = attempts.length ? attempts[attempts.length - 1].status :
        null;
    result.retries = Math.max(0, attempts.length - result.calls);
    result.retry_count_headers = attempts.map((a) => a.retry_count);
    for (let i = 1; i < attempts.length; i++)
        result.retry_waits_ms.push(attempts[i].start_ms -
            (attempts[i - 1].end_ms ?? attempts[i - 1].start_ms));
    if (result.seen?.error)
        delete result.seen.error;
    if (rec.hung !== null) {
        result.outcome = 'hangs';
        result.hang = rec.hung;
    } else if (result.seen?.unsupported) {
        result.outcome = 'n/a';
        result.error = { name: 'unsupported', class: null,
            message: result.seen.unsupported, status: null };
        result.seen = null;
    } else if (thrown !== null) {
        result.outcome = 'throws';
        result.error = describeError(thrown);
    } else {
        result.lost = losses(result.seen, o.expect);
        result.outcome = result.lost.length ? 'loses-data' : 'works';
    }
    return result;
}

function usage() {
    return `usage: node drive.mjs --client openai|ai-sdk|langchain
       --base-url URL (ending in /v1) --api-key KEY
       --scenario S[,S...]   (${SCENARIOS.join(' ')})
       [--model ID] [--prompt TEXT] [--params JSON] [--timeout-ms N]
       [--backoff-ms N] [--total-ms N] [--max-retries N] [--repeat N]
       [--client-timeout-ms N] [--expect JSON]
Prints one JSON line per scenario: outcome (works | throws | hangs |
loses-data | n/a), error, status, seen, lost, elapsed_ms, retries, requests.
--timeout-ms bounds each HTTP attempt (default 5000): one that has not ended
by then is a hang, and the run is aborted; so is a wait of more than
--backoff-ms (default: --timeout-ms) between two attempts.`;
}

function parseArgs(argv) {
    const o = {};
    const ints = { '--timeout-ms': 'timeoutMs', '--total-ms': 'totalMs',
        '--backoff-ms': 'backoffMs',
        '--max-retries': 'maxRetries', '--repeat': 'repeat',
        '--client-timeout-ms': 'clientTimeoutMs' };
    const strs = { '--client': 'client', '--base-url': 'baseURL',
        '--api-key': 'apiKey', '--scenario': 'scenario', '--model': 'model',
        '--prompt': 'prompt' };
    for (let i = 0; i < argv.length; i += 2) {
        const [k, v] = [argv[i], argv[i + 1]];
        if (v === undefined)
            throw new Error(`${k} needs a value`);
        if (k in ints) {
            if (!/^\d+$/.test(v))
                throw new Error(`${k} wants a whole number, not ${v}`);
            o[ints[k]] = Number(v);
        } else if (k in strs)
            o[strs[k]] = v;
        else if (k === '--params' || k === '--expect')
            o[k.slice(2)] = JSON.parse(v);
        else
            throw new Error(`unknown option ${k}`);
    }
    for (const k of ['client', 'baseURL', 'apiKey', 'scenario'])
        if (!o[k])
            throw new Error(`missing --${k === 'baseURL' ? 'base-url' :
                k === 'apiKey' ? 'api-key' : k}`);
    return o;
}

async function main() {
    let o;
    try {
        o = parseArgs(process.argv.slice(2));
    } catch (e) {
        process.stderr.write(`drive.mjs: ${e.message}\n${usage()}\n`);
        process.exit(2);
    }
    for (const scenario of o.scenario.split(','))
        process.stdout.write(`${JSON.stringify(
            await drive({ ...o, scenario }))}\n`);
    // Held-open connections must not keep the process: the lines are out.
    process.exit(0);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
    await main();
