#!/usr/bin/env node
// matrix.mjs: the client-impact matrix. Every break case of the runner's
// corpus (conformance/tests/breaks/*.json, each a server that nexus-mock
// plays from fixtures/faults/servers/breaks/NAME.yaml in front of
// fixtures/faults/servers/good.yaml, as the runner's own tests do) is shown
// to every client of drive.mjs on the scenario it concerns, and every legal
// dialect (conformance/tests/dialects/*.json, fixtures/faults/servers/
// dialects/) on the chat, stream, stream-usage and model-list scenarios;
// what each client does is written as JSON and as the markdown table
// docs/client-impact.md.
//
//   node tests/clients/matrix.mjs [--mock-bin PATH] [--json FILE]
//        [--markdown FILE] [--raw FILE] [--bound-ms N] [--jobs N]
//        [--only CASE[,CASE...]] [--check]
//
// --check writes nothing: it compares what the clients did with the
// committed JSON (--json, docs/client-impact.json by default), every field
// but the retry waits' milliseconds and Node's patch version, and exits 1
// naming each case and client that differs (the ctest
// conform_test_client_matrix runs it).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync,
    writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { parse as parseYaml } from 'yaml';

import { CLIENT_PACKAGES, CLIENTS, drive, losses } from './drive.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONFORM_TESTS = join(ROOT, 'conformance', 'tests');
const SERVERS = join(ROOT, 'fixtures', 'faults', 'servers');
// The fixtures' {{now}} is served as this time, the one the answers were
// recorded at: the clients do not judge created, and every run of the
// matrix then sees the same bytes.
const RECORDED_NOW = '1718000000';
// Every client gets the same retry budget, so columns compare.
const MAX_RETRIES = 2;
// How long a server may take to say where it listens, or to exit.
const SERVER_MS = 10000;

function parseArgs(argv) {
    const o = { mockBin: join(ROOT, 'build/plain/mockserver/nexus-mock'),
        json: join(ROOT, 'docs/client-impact.json'),
        markdown: join(ROOT, 'docs/client-impact.md'), raw: null,
        boundMs: 5000, jobs: 8, only: null };
    const names = { '--mock-bin': 'mockBin', '--json': 'json',
        '--markdown': 'markdown', '--raw': 'raw', '--bound-ms': 'boundMs',
        '--jobs': 'jobs', '--only': 'only' };
    for (let i = 0; i < argv.length; i += 2) {
        if (argv[i] === '--check') {
            o.check = true;
            i--;
            continue;
        }
        const k = names[argv[i]];
        if (k === undefined || argv[i + 1] === undefined)
            throw new Error(`bad option ${argv[i]}`);
        o[k] = ['boundMs', 'jobs'].includes(k) ? Number(argv[i + 1]) :
            argv[i + 1];
    }
    if (o.only)
        o.only = o.only.split(',');
    return o;
}

// A fixture's text as the matrix serves it: {{now}} the recorded time.
function fixtureText(path) {
    return readFileSync(path, 'utf8').replaceAll('{{now}}', RECORDED_NOW);
}

// The text a raw body of a status reply gives (a template's {{now}} as
// fixtureText serves it, {{{{ a literal {{).
function replyBody(reply) {
    if (reply.body_hex !== undefined)
        return Buffer.from(reply.body_hex, 'hex').toString('latin1');
    if (reply.body_template !== undefined)
        return reply.body_template.replaceAll('{{{{', '{{');
    return reply.body ?? '';
}

// The rules of a fixture file as the routes the matrix reasons about:
// method, path, auth (the exact Authorization, '-' for none), the body
// substrings a request has and lacks, and the responses served in turn
// (a rule's replies, the last repeating); raw_hex when the server answers
// with bytes that are not HTTP.
function routesOf(path) {
    const doc = parseYaml(fixtureText(path));
    const routes = [];
    let rawHex;
    for (const rule of doc.rules ?? []) {
        const replies = rule.replies ?? [rule.reply];
        if (replies[0].fault?.not_http_hex !== undefined) {
            rawHex = replies[0].fault.not_http_hex;
            continue;
        }
        if (!rule.match)
            continue; /* the 404 for any request no route answers */
        const m = rule.match;
        const auth = m.headers?.Authorization;
        const conds = m.body === undefined ? [] :
            Array.isArray(m.body) ? m.body : [m.body];
        routes.push({ name: rule.name, method: m.method, path: m.path,
            ...(auth === undefined ? {} :
                { auth: typeof auth === 'string' ? auth : '-' }),
            body_has: conds.filter((c) => c.contains !== undefined)
                .map((c) => c.contains),
            body_lacks: conds.filter((c) => c.lacks !== undefined)
                .map((c) => c.lacks),
            responses: replies.map((r) => ({ status: r.status ?? 200,
                body: replyBody(r) })) });
    }
    return { routes, raw_hex: rawHex };
}

// A case (or dialect) with its server's routes read from its fixture.
function loadCase(kind, n) {
    const c = JSON.parse(readFileSync(join(CONFORM_TESTS, kind, n), 'utf8'));
    const fixture = join(SERVERS, c.fixture);
    return { ...c, ...routesOf(fixture), fixture };
}

// The case's (or dialect's) routes in front of the good server's, as
// nexus-mock tries them (the case's fixture file first).
function compose(good, brk) {
    const script = { routes: [...(brk.routes ?? []), ...good.routes],
        fixtures: [...(brk.fixture ? [brk.fixture] : []), good.fixture] };
    if (brk.raw_hex !== undefined)
        script.raw_hex = brk.raw_hex;
    return script;
}

// The request a client must make for a route to answer it: a scenario of
// drive.mjs with its key, model, prompt, parameters and repetitions, or
// {na: why} when no client can make it.
function probeFor(brk) {
    const probe = { scenario: 'chat', apiKey: 'sk-test', model: 'fake-model-1',
        prompt: 'Say hello in five words', params: {}, repeat: 1 };
    if (brk.raw_hex !== undefined)
        return probe;
    const route = brk.routes?.[0];
    if (route === undefined)
        return { na: 'the case is a runner option ' +
            `(${(brk.args ?? []).join(' ')}), not a server answer` };
    const responses = route.responses ?? [route.response];
    const first = responses.findIndex((r) => r.status !== responses[0].status);
    probe.repeat = first > 0 ? first + 1 : 1;
    if (route.method === 'GET') {
        const m = /^\/v1\/models\/(.+)$/.exec(route.path);
        if (route.path === '/v1/models')
            probe.scenario = 'models-list';
        else if (m) {
            probe.scenario = 'models-retrieve';
            probe.model = m[1];
        } else if (route.path === '/v1/balance') {
            probe.scenario = 'balance';
            probe.repeat = 1;
        }
        return probe;
    }
    if (route.auth === '-')
        return { na: 'it answers a request without a key; clients always ' +
            'send one' };
    if (route.auth !== undefined && !route.auth.startsWith('Bearer '))
        return { na: `it answers "Authorization: ${route.auth}"; clients ` +
            'send Bearer' };
    if (route.auth !== undefined)
        probe.apiKey = route.auth.slice('Bearer '.length);
    if ((route.body_lacks ?? []).some((s) => ['"messages"', '"model"']
        .includes(s)))
        return { na: 'it answers a body without messages or model; clients ' +
            'always send both' };
    const text = [];
    let tools = false;
    for (const s of route.body_has ?? []) {
        if (s === '"tools":')
            tools = true;
        else if (s === '"json_object"')
            probe.scenario = 'json';
        else if (s === '"json_schema"')
            return { na: 'it answers response_format json_schema, which ' +
                'drive.mjs does not ask for' };
        else if (s === '"stream":true')
            probe.scenario = probe.scenario === 'chat' ? 'stream' :
                probe.scenario;
        else if (s === '"include_usage":true')
            probe.scenario = 'stream-usage';
        else if (s === 'nexus-conform-no-such-model')
            probe.model = s;
        else if (!s.startsWith('"') && !s.startsWith('{'))
            text.push(s);
        else {
            let v;
            try {
                v = JSON.parse(`{${s}}`);
            } catch {
                return { na: `it answers a body with ${s}, which no ` +
                    'client sends' };
            }
            const [k] = Object.keys(v);
            if (['messages', 'role', 'model'].includes(k))
                return { na: `it answers a body with ${s}, which the ` +
                    'clients do not send as such' };
            probe.params[k] = v[k];
        }
    }
    if (tools)
        probe.scenario = probe.scenario === 'stream' ? 'tools-stream' : 'tools';
    if (text.length)
        probe.prompt = text.join('. ');
    return probe;
}

// Whether a route answers a recorded request (the fixture rule's match:
// method and path equal, Authorization equal or absent, every body_has in
// the body, no body_lacks in it).
function routeMatches(r, req) {
    const body = req.body ?? '';
    if (r.method !== req.method || r.path !== req.path.split('?')[0])
        return false;
    if (r.auth === '-' && req.authorization !== null)
        return false;
    if (r.auth !== undefined && r.auth !== '-' && req.authorization !== r.auth)
        return false;
    return (r.body_has ?? []).every((s) => body.includes(s)) &&
        !(r.body_lacks ?? []).some((s) => body.includes(s));
}

// Replays the server's choice for every request the client made, in
// order, as the mock's rule counters did. Returns, per request, the route's
// index (-1: none, the built-in 404) and the response that answered it.
function answers(script, requests) {
    const turns = new Map();
    return requests.map((req) => {
        const i = script.routes.findIndex((r) => routeMatches(r, req));
        if (i < 0)
            return { route: -1, response: null };
        const t = turns.get(i) ?? 0;
        turns.set(i, t + 1);
        const r = script.routes[i];
        const list = r.responses;
        return { route: i, response: list[Math.min(t, list.length - 1)] };
    });
}

// Reads an SSE body as the WHATWG rules do (any line end, a leading BOM
// dropped, an event per blank line, comments and unknown fields ignored)
// and stops at data: [DONE]; returns the data of each event.
function sseEvents(text) {
    const events = [];
    let data = null;
    for (const line of text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/)) {
        if (line === '') {
            if (data !== null) {
                if (data === '[DONE]')
                    return events;
                events.push(data);
            }
            data = null;
            continue;
        }
        const m = /^([^:]*)(?::(.*))?$/.exec(line);
        if (m[1] === 'data') {
            const v = (m[2] ?? '').replace(/^ /, '');
            data = data === null ? v : `${data}\n${v}`;
        }
    }
    return events;
}

// Content as text: a string as it is, another scalar as JavaScript writes
// it (a number the server sent is still what it sent), null for none.
function text(v) {
    if (v === null || v === undefined)
        return null;
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

// What the server meant its user to see, from the answer it gave: the
// content, finish_reason, usage and tool calls of choice 0, or the model
// list. Null when there is nothing to compare (an error, raw bytes).
function intended(response, scenario) {
    if (!response || response.status < 200 || response.status > 299)
        return null;
    if (!scenario.startsWith('stream') && scenario !== 'tools-stream') {
        let j = response.json;
        if (j === undefined && typeof response.body === 'string') {
            try {
                j = JSON.parse(response.body); // whatever its Content-Type
            } catch {
                j = undefined;
            }
        }
        if (scenario === 'models-list')
            return { models: Array.isArray(j?.data) ?
                j.data.map((m) => m?.id ?? null) : null };
        const c = j?.choices?.[0];
        if (!c)
            return null;
        const calls = Array.isArray(c.message?.tool_calls) ?
            c.message.tool_calls.map((t) => ({ name: t?.function?.name ?? null,
                arguments: text(t?.function?.arguments) })) : [];
        return { content: text(c.message?.content),
            finish_reason: c.finish_reason ?? null,
            ...(calls.length ? { tool_calls: calls } : {}),
            ...(j.usage && typeof j.usage === 'object' ?
                { usage: j.usage } : {}) };
    }
    if (typeof response.body !== 'string')
        return null;
    const want = { content: null, finish_reason: null };
    const events = sseEvents(response.body);
    // A stream answered with a plain completion (no events at all): the
    // server meant that completion's content.
    if (events.length === 0 && !/^\s*data:/m.test(response.body)) {
        const meant = intended({ ...response, json: undefined }, 'chat');
        if (meant !== null && scenario === 'stream')
            delete meant.usage;
        return meant;
    }
    for (const data of events) {
        let chunk;
        try {
            chunk = JSON.parse(data);
        } catch {
            continue;
        }
        if (chunk?.usage && typeof chunk.usage === 'object')
            want.usage = chunk.usage;
        for (const c of chunk?.choices ?? []) {
            if ((c?.index ?? 0) !== 0)
                continue;
            if (c?.delta?.content != null)
                want.content = (want.content ?? '') + text(c.delta.content);
            // Tool-call deltas joined per index, as OpenAI streams them.
            for (const t of Array.isArray(c?.delta?.tool_calls) ?
                c.delta.tool_calls : []) {
                const k = Number.isInteger(t?.index) ? t.index : 0;
                want.tool_calls ??= [];
                const call = want.tool_calls[k] ??= { name: null,
                    arguments: '' };
                call.name ??= t?.function?.name ?? null;
                call.arguments += text(t?.function?.arguments) ?? '';
            }
            if (c?.finish_reason != null)
                want.finish_reason = c.finish_reason;
        }
    }
    if (scenario === 'stream' || scenario === 'tools-stream')
        delete want.usage;
    if (want.tool_calls)
        want.tool_calls = want.tool_calls.filter(Boolean);
    return want;
}

// Starts nexus-mock on fixture files; resolves to {url, stop()}.
async function startMock(bin, fixtures) {
    const child = spawn(bin, ['--port', '0', '--quiet', '--no-watch',
        '--shutdown-grace', '0', ...fixtures.flatMap((f) => ['--fixtures', f])],
        { stdio: ['ignore', 'pipe', 'ignore'] });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const url = await new Promise((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(
            `${bin}: no listening line within ${SERVER_MS} ms`)), SERVER_MS);
        child.on('error', reject);
        child.stdout.on('data', (d) => {
            out += d;
            const m = /listening on (\S+)/.exec(out);
            if (m) {
                clearTimeout(timer);
                resolve(m[1]);
            }
        });
    });
    return { url, async stop() {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), SERVER_MS);
        await exited;
        clearTimeout(timer);
    } };
}

// Runs one client on one server with one probe; returns the drive result
// with what the matrix adds: whether the case's own routes answered, and
// what was lost against what the server meant.
async function runOne(o, dir, label, script, nBreakRoutes, probe, client) {
    const files = script.fixtures.map((f, i) => {
        const path = join(dir, `${label}-${client}-${i}.yaml`);
        writeFileSync(path, fixtureText(f));
        return path;
    });
    const fake = await startMock(o.mockBin, files);
    let r;
    try {
        r = await drive({ client, baseURL: `${fake.url}/v1`,
            apiKey: probe.apiKey, scenario: probe.scenario,
            model: probe.model, prompt: probe.prompt, params: probe.params,
            repeat: probe.repeat, timeoutMs: o.boundMs, backoffMs: o.boundMs,
            maxRetries: MAX_RETRIES });
    } finally {
        await fake.stop();
    }
    const got = answers(script, r.requests);
    r.exercised = script.raw_hex !== undefined ||
        got.some((g) => g.route >= 0 && g.route < nBreakRoutes);
    r.answered_by = got.map((g) => g.route < 0 ? null :
        script.routes[g.route].name ?? `route ${g.route}`);
    if (r.outcome === 'works') {
        const want = intended(got[got.length - 1]?.response, probe.scenario);
        r.lost = losses(r.seen, want);
        if (r.lost.length)
            r.outcome = 'loses-data';
    }
    return r;
}

// The stable part of a result: what the committed JSON keeps.
function summary(r) {
    const last = r.requests[r.requests.length - 1];
    return { outcome: r.outcome,
        error: r.error ? { class: r.error.class, name: r.error.name,
            status: r.error.status, message: r.error.message } : null,
        status: r.status, lost: r.lost, retries: r.retries,
        hang: r.hang ? r.hang.phase : null,
        retry_waits_ms: r.retry_waits_ms,
        retry_after: last?.retry_after_ms ? `${last.retry_after_ms} ms` :
            last?.retry_after ? `${last.retry_after} s` : null,
        finish_reason: r.seen?.finish_reason ?? null,
        finish_reason_raw: r.seen?.finish_reason_raw ?? undefined };
}

// Runs the jobs, n at a time.
async function pool(jobs, n) {
    const out = new Array(jobs.length);
    let next = 0;
    await Promise.all(Array.from({ length: n }, async () => {
        while (next < jobs.length) {
            const i = next++;
            out[i] = await jobs[i]();
        }
    }));
    return out;
}

function cell(s, base) {
    if (s === null || s.outcome === 'n/a')
        return 'n/a';
    let text;
    if (s.outcome === 'works')
        text = 'works';
    else if (s.outcome === 'throws') {
        const { class: cls, name } = s.error;
        const main = cls && cls !== 'Error' ? cls : name;
        const named = name && ![
            'Error', main, `AI_${main}`].includes(name) ? ` (${name})` : '';
        text = `**throws** ${main}${named}${
            s.error.status ? ` ${s.error.status}` : ''}`;
    }
    else if (s.outcome === 'hangs')
        text = `**hangs** (${s.hang}${s.hang === 'backoff' && s.retry_after ?
            `; told to wait ${s.retry_after}` : ''})`;
    else if (s.outcome === 'loses-data')
        text = '**loses data**';
    else
        text = s.outcome;
    if (s.retries)
        text += ` after ${s.retries} ${s.retries === 1 ? 'retry' : 'retries'}`;
    if (base && s.outcome !== 'works' && s.outcome === base.outcome &&
        (s.error?.class ?? null) === (base.error?.class ?? null) &&
        s.retries === base.retries && s.hang === base.hang &&
        s.retry_after === base.retry_after)
        text += ' (as on the good server)';
    return text;
}

function markdown(o, res) {
    const lines = [];
    const esc = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
    lines.push('# Client impact of the break cases', '',
        'Generated by `node tests/clients/matrix.mjs` (see the README, ' +
        '"Real-client tests"); do not edit by hand.', '',
        'Each break case of `conformance/tests/breaks/` is played by ' +
        '`nexus-mock` from its fixture (`fixtures/faults/servers/breaks/`) ' +
        'in front of `fixtures/faults/servers/good.yaml`, and ' +
        'each client makes the request the case answers (the scenario ' +
        'column) through its own API, as its documentation shows.', '',
        '| client | packages |', '|---|---|');
    for (const c of CLIENTS)
        lines.push(`| ${c} | ${CLIENT_PACKAGES[c]} |`);
    lines.push('', `Node ${process.version}. Every client gets maxRetries ` +
        `${MAX_RETRIES}. A client **hangs** when one HTTP attempt has not ` +
        `ended ${o.boundMs} ms after it began ((headers): no answer; ` +
        `(body): the body never ends), or when it waits more than ` +
        `${o.boundMs} ms before a retry ((backoff)). It **throws** when the ` +
        'call rejects or the AI SDK stream yields an error part; it **loses ' +
        'data** when it ends normally but shows content, finish_reason, ' +
        'usage, tool calls or models other than what the server sent (read ' +
        'as WHATWG reads an event stream, up to `[DONE]`). "(as on the good ' +
        'server)" marks an outcome that the same request to the good script ' +
        'gets too. n/a: the client cannot make that request, or its request ' +
        'does not reach the case\'s routes.', '',
        '## The good server', '',
        '| scenario | ' + CLIENTS.join(' | ') + ' |',
        '|---|' + CLIENTS.map(() => '---|').join(''));
    for (const [key, b] of Object.entries(res.baseline))
        lines.push(`| ${esc(key)} | ${CLIENTS.map((c) =>
            cell(b[c], null)).join(' | ')} |`);
    lines.push('', '## Break cases', '',
        '| break case | what the server does | scenario | ' +
        CLIENTS.join(' | ') + ' |',
        '|---|---|---|' + CLIENTS.map(() => '---|').join(''));
    for (const c of res.cases) {
        const base = res.baseline[c.probe_key] ?? {};
        lines.push(`| ${c.case} | ${esc(c.about)} | ${esc(c.scenario)} | ${
            CLIENTS.map((k) => esc(cell(c.clients[k], base[k]))).join(' | ')
        } |`);
    }
    lines.push('', '## Legal dialects', '',
        'The dialects of real servers that the runner must pass with no ' +
        'failure (`conformance/tests/dialects/`), each shown to every ' +
        'client on four scenarios.', '',
        '| dialect | what the server does | scenario | ' +
        CLIENTS.join(' | ') + ' |',
        '|---|---|---|' + CLIENTS.map(() => '---|').join(''));
    for (const d of res.dialects)
        for (const [i, row] of d.rows.entries())
            lines.push(`| ${i === 0 ? d.case : ''} | ${
                i === 0 ? esc(d.about) : ''} | ${esc(row.scenario)} | ${
                CLIENTS.map((k) => esc(cell(row.clients[k],
                    (res.baseline[row.scenario] ?? {})[k]))).join(' | ')} |`);
    lines.push('', '## What each client said', '',
        'For every outcome other than works (and not n/a): the error the ' +
        'client raised, or what it lost.', '');
    const said = [...res.cases, ...res.dialects.flatMap((d) =>
        d.rows.map((row) => ({ case: `${d.case} (${row.scenario})`,
            clients: row.clients })))];
    for (const c of said)
        for (const k of CLIENTS) {
            const s = c.clients[k];
            if (s === null || ['works', 'n/a'].includes(s.outcome))
                continue;
            let what = s.outcome === 'loses-data' ? s.lost.join('; ') :
                s.error ? `${s.error.class ?? s.error.name}: ${
                    s.error.message}` : s.outcome;
            if (s.outcome === 'hangs')
                what = `no end within ${o.boundMs} ms (${s.hang}${
                    s.retry_after ? `; the last answer said Retry-After ${
                        s.retry_after}` : ''})`;
            if (what.length > 240)
                what = `${what.slice(0, 240)}...`;
            lines.push(`- ${c.case}, ${k}: ${esc(what)}`);
        }
    lines.push('', '## Not applicable', '');
    for (const c of res.cases) {
        if (c.na) {
            lines.push(`- ${c.case}: ${esc(c.na)}`);
            continue;
        }
        for (const k of CLIENTS) {
            const s = c.clients[k];
            if (s?.outcome !== 'n/a')
                continue;
            const why = s.error?.name === 'unsupported' ? s.error.message :
                s.error ? `its request never reached the case's routes (${
                    s.error.class ?? s.error.name}: ${s.error.message})` :
                    'its request never reached the case\'s routes';
            lines.push(`- ${c.case}, ${k}: ${esc(why)}`);
        }
    }
    return `${lines.join('\n')}\n`;
}

async function main() {
    const o = parseArgs(process.argv.slice(2));
    // The clients log what they are about to throw; the results say it.
    console.error = console.warn = () => {};
    const t0 = performance.now();
    const good = { ...routesOf(join(SERVERS, 'good.yaml')),
        fixture: join(SERVERS, 'good.yaml') };
    const names = readdirSync(join(CONFORM_TESTS, 'breaks'))
        .filter((n) => n.endsWith('.json')).sort()
        .filter((n) => !o.only || o.only.includes(basename(n, '.json')));
    const dir = mkdtempSync(join(tmpdir(), 'nexus-matrix-'));
    const cases = names.map((n) => {
        const brk = loadCase('breaks', n);
        const probe = probeFor(brk);
        return { name: basename(n, '.json'), brk, probe,
            key: probe.na ? null : JSON.stringify(probe) };
    });
    const dialects = readdirSync(join(CONFORM_TESTS, 'dialects'))
        .filter((n) => n.endsWith('.json')).sort()
        .filter((n) => !o.only || o.only.includes(basename(n, '.json')))
        .map((n) => ({ name: basename(n, '.json'),
            brk: loadCase('dialects', n) }));
    const goodScript = compose(good, {});
    const probes = new Map(cases.filter((c) => c.key).map((c) =>
        [c.key, c.probe]));
    // A dialect replaces every route: each client reads it through the
    // requests most servers see, which the good server answers too.
    const dialectProbes = ['chat', 'stream', 'stream-usage', 'models-list']
        .map((scenario) => ({ scenario, apiKey: 'sk-test',
            model: 'fake-model-1', prompt: 'Say hello in five words',
            params: {}, repeat: 1 }));
    for (const p of dialectProbes)
        probes.set(JSON.stringify(p), p);
    const jobs = [];
    for (const [key, probe] of probes)
        for (const client of CLIENTS)
            jobs.push(async () => ({ kind: 'baseline', key, client,
                r: await runOne(o, dir, `good-${jobs.length}`, goodScript, 0,
                    probe, client) }));
    for (const c of cases) {
        if (c.probe.na)
            continue;
        const script = compose(good, c.brk);
        for (const client of CLIENTS)
            jobs.push(async () => ({ kind: 'case', name: c.name, client,
                r: await runOne(o, dir, c.name, script,
                    (c.brk.routes ?? []).length, c.probe, client) }));
    }
    for (const d of dialects) {
        const script = compose(good, d.brk);
        for (const p of dialectProbes)
            for (const client of CLIENTS)
                jobs.push(async () => ({ kind: 'dialect', name: d.name,
                    key: JSON.stringify(p), client,
                    r: await runOne(o, dir, `${d.name}-${p.scenario}`,
                        script, (d.brk.routes ?? []).length, p, client) }));
    }
    let done = 0;
    const results = await pool(jobs.map((j) => async () => {
        const out = await j();
        done++;
        if (process.stderr.isTTY)
            process.stderr.write(`\r${done}/${jobs.length}`);
        return out;
    }), o.jobs);
    if (process.stderr.isTTY)
        process.stderr.write('\n');
    rmSync(dir, { recursive: true, force: true });
    // A probe as a table shows it: what differs from a plain request.
    const label = (p) => [p.scenario + (p.repeat > 1 ? ` x${p.repeat}` : ''),
        p.apiKey !== 'sk-test' ? `key ${p.apiKey}` : '',
        p.model !== 'fake-model-1' ? `model ${p.model}` : '',
        Object.keys(p.params).length ? JSON.stringify(p.params) : '',
        p.prompt !== 'Say hello in five words' ? `"${p.prompt}"` : '']
        .filter(Boolean).join(', ');
    const res = { generated_by: 'tests/clients/matrix.mjs',
        node: process.version, clients: CLIENT_PACKAGES,
        max_retries: MAX_RETRIES, bound_ms: o.boundMs, baseline: {},
        cases: [], dialects: [] };
    for (const { kind, key, client, r } of results.filter((x) =>
        x.kind === 'baseline')) {
        void kind;
        const k = label(probes.get(key));
        res.baseline[k] ??= {};
        res.baseline[k][client] = summary(r);
    }
    for (const c of cases) {
        const entry = { case: c.name, about: c.brk.about ?? '',
            scenario: c.probe.na ? '-' : label(c.probe),
            probe_key: c.probe.na ? null : label(c.probe),
            na: c.probe.na ?? null, clients: {} };
        for (const client of CLIENTS) {
            const x = results.find((y) => y.kind === 'case' &&
                y.name === c.name && y.client === client);
            entry.clients[client] = x === undefined ? null :
                x.r.exercised ? summary(x.r) : { ...summary(x.r),
                    outcome: 'n/a', not_exercised: x.r.answered_by };
        }
        res.cases.push(entry);
    }
    for (const d of dialects) {
        const entry = { case: d.name, about: d.brk.about ?? '', rows: [] };
        for (const p of dialectProbes) {
            const key = JSON.stringify(p);
            const row = { scenario: label(p), clients: {} };
            for (const client of CLIENTS) {
                const x = results.find((y) => y.kind === 'dialect' &&
                    y.name === d.name && y.key === key &&
                    y.client === client);
                row.clients[client] = x === undefined ? null : summary(x.r);
            }
            entry.rows.push(row);
        }
        res.dialects.push(entry);
    }
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    if (o.check)
        process.exit(check(o, res, jobs.length, seconds));
    writeFileSync(o.json, `${JSON.stringify(res, null, 1)}\n`);
    writeFileSync(o.markdown, markdown(o, res));
    if (o.raw)
        writeFileSync(o.raw, `${JSON.stringify(results, null, 1)}\n`);
    process.stderr.write(`matrix: ${cases.length} cases and ${
        dialects.length} dialects x ${CLIENTS.length} ` +
        `clients (${jobs.length} runs) in ${seconds} s; wrote ${o.json} and ` +
        `${o.markdown}\n`);
    process.exit(0);
}

// What a run may change without a client behaving differently: the
// milliseconds each retry waited, and Node's version (checked by scripts/test).
function stable(v) {
    if (Array.isArray(v))
        return v.map(stable);
    if (v === null || typeof v !== 'object')
        return v;
    const out = {};
    for (const [k, x] of Object.entries(v))
        if (k !== 'retry_waits_ms' && k !== 'node')
            out[k] = stable(x);
    return out;
}

// Compares res with the committed JSON; prints every difference; returns
// the exit status.
function check(o, res, runs, seconds) {
    const want = stable(JSON.parse(readFileSync(o.json, 'utf8')));
    const got = stable(res);
    const diffs = [];
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    for (const k of ['generated_by', 'clients', 'max_retries', 'bound_ms'])
        if (!same(want[k], got[k]))
            diffs.push(`${k}: committed ${JSON.stringify(want[k])}, now ${
                JSON.stringify(got[k])}`);
    for (const [k, row] of Object.entries(got.baseline))
        for (const [client, r] of Object.entries(row))
            if (!same(want.baseline?.[k]?.[client], r))
                diffs.push(`baseline ${k}, ${client}: committed ${
                    JSON.stringify(want.baseline?.[k]?.[client])}, now ${
                    JSON.stringify(r)}`);
    for (const sec of ['cases', 'dialects']) {
        const byName = new Map((want[sec] ?? []).map((e) => [e.case, e]));
        for (const e of got[sec]) {
            const w = byName.get(e.case);
            if (!same(w, e))
                diffs.push(`${sec} ${e.case}: committed ${JSON.stringify(w)
                    }\n    now ${JSON.stringify(e)}`);
            byName.delete(e.case);
        }
        for (const name of byName.keys())
            if (!o.only)
                diffs.push(`${sec} ${name}: committed, but no such case now`);
    }
    for (const d of diffs)
        process.stderr.write(`DIFFERS: ${d}\n`);
    process.stderr.write(`matrix --check: ${runs} runs in ${seconds} s; ${
        diffs.length} difference(s) from ${o.json}` +
        (diffs.length ? ' (regenerate it with node tests/clients/matrix.mjs ' +
            'if the change is meant)\n' : '\n'));
    return diffs.length ? 1 : 0;
}

await main();
