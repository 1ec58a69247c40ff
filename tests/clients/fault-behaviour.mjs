#!/usr/bin/env node
// fault-behaviour.mjs: what the real clients (drive.mjs: the openai
// package, the AI SDK, LangChain) do with every server defect of the
// project's fault library and with the retry examples. Each fixture gets
// its own nexus-mock (--port 0 on 127.0.0.1, --admin, stopped by its PID
// with SIGTERM, which must exit 0), all of them at once; each client is
// driven through it with every HTTP attempt bounded (a client still
// waiting after BOUND_MS hangs), and what its user got is compared with
// what the fixture scripted: works, throws, hangs or loses-data.
//
//   node tests/clients/fault-behaviour.mjs --mock PATH --check
//       re-runs everything and fails (exit 1) when an outcome disagrees
//       with the committed record docs/fault-behaviour.json
//   node tests/clients/fault-behaviour.mjs --mock PATH --write
//       re-runs everything and writes docs/fault-behaviour.json and .md
//
// Fixtures: every fixtures/faults/*.yaml (top level only), the fault
// examples fixtures/examples/{stream-cut,malformed-chunk,error-after-200}
// .yaml and the retry examples fixtures/examples/{retries,rate-limited-
// retry}.yaml. The faults run JOBS at a time, then the retry examples. A
// retry example's clients run one after the other, the mock reset between
// them (POST /_nexus/reset), and what the mock's GET /_nexus/clients saw
// of each is recorded and asserted too. The record keeps only what does
// not depend on timing (no waits, no "backoff grew").
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { CLIENT_PACKAGES, CLIENTS, VERSIONS, drive } from './drive.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// How long one HTTP attempt may take, headers and body, before the client
// is said to hang (the faults' own delays are at most 1.5 s).
const BOUND_MS = 3000;
// The longest wait between two attempts that is still a retry: the AI
// SDK's backoff is 2 s then 4 s, LangChain's up to 2 s then 4 s.
const BACKOFF_MS = 5000;
// Every client gets the same retry budget (the openai SDK's default).
const MAX_RETRIES = 2;
// How long a mock may take to say where it listens, or to exit.
const MOCK_MS = 20000;
// How many fault fixtures run at once (each a mock and up to six drives).
const JOBS = 8;
// The faults whose drives take seconds (hangs, retried connection
// errors, delays): started first.
const LONG = new Set(['close-before-headers', 'not-http', 'hang',
    'headers-then-silence', 'held-after-done', 'slow-headers']);
// How much of an error message the record keeps.
const GIST_CHARS = 160;

const FAULT_EXAMPLES = ['stream-cut.yaml', 'malformed-chunk.yaml',
    'error-after-200.yaml'];
const RETRY_EXAMPLES = ['retries.yaml', 'rate-limited-retry.yaml'];

function parseArgs(argv) {
    const o = { mock: process.env.NEXUS_MOCK_BIN ?? null, mode: null,
        json: join(ROOT, 'docs/fault-behaviour.json'),
        markdown: join(ROOT, 'docs/fault-behaviour.md') };
    for (let i = 0; i < argv.length; i++) {
        const k = argv[i];
        if (k === '--check' || k === '--write')
            o.mode = k.slice(2);
        else if (k === '--mock' && argv[i + 1] !== undefined)
            o.mock = argv[++i];
        else
            throw new Error(`bad option ${k}`);
    }
    if (o.mode === null || o.mock === null)
        throw new Error('usage: fault-behaviour.mjs --mock PATH ' +
            '--check|--write');
    return o;
}

// What a fixture's one scripted answer says, read from its text: the
// content of its deltas (or of its last `content:`), its finish_reason
// (default stop), its key and model, whether its fault rule needs
// "stream": true, and its scenario.
export function scripted(text) {
    const lines = text.split('\n');
    const key = /^\s+- key: (\S+)$/m.exec(text)?.[1];
    const model = /^\s+- id: (\S+)$/m.exec(text)?.[1];
    let content = null;
    const at = lines.findIndex((l) => /^\s+deltas:$/.test(l));
    if (at >= 0) {
        content = '';
        for (const l of lines.slice(at + 1)) {
            if (!/^\s+- \{/.test(l))
                break;
            const m = /content: ("(?:[^"\\]|\\.)*")/.exec(l);
            if (m)
                content += JSON.parse(m[1]);
        }
    } else {
        const all = [...text.matchAll(/^\s+content: (.+)$/gm)];
        content = all.length ? all[all.length - 1][1].trim() : null;
    }
    if (!key || !model || !content)
        throw new Error('cannot read the scripted answer (key, model, ' +
            'content)');
    return { key, model, content,
        finish_reason: /^\s+finish_reason: (\w+)$/m.exec(text)?.[1] ??
            'stop',
        stream_only: /^\s+stream: true$/m.test(text),
        scenario: /^\s+scenario: (\S+)$/m.exec(text)?.[1] ?? null };
}

// The fixtures, in the order the record lists them.
function cases() {
    const list = [];
    const faults = join(ROOT, 'fixtures/faults');
    for (const f of readdirSync(faults).sort()) {
        const path = join(faults, f);
        if (f.endsWith('.yaml') && statSync(path).isFile())
            list.push({ fixture: `faults/${f}`, path, kind: 'fault' });
    }
    for (const f of FAULT_EXAMPLES)
        list.push({ fixture: `examples/${f}`,
            path: join(ROOT, 'fixtures/examples', f), kind: 'fault' });
    for (const f of RETRY_EXAMPLES)
        list.push({ fixture: `examples/${f}`,
            path: join(ROOT, 'fixtures/examples', f), kind: 'retry' });
    for (const c of list) {
        c.name = basename(c.fixture, '.yaml');
        try {
            c.script = scripted(readFileSync(c.path, 'utf8'));
        } catch (e) {
            throw new Error(`${c.fixture}: ${e.message}`);
        }
        c.scenarios = c.kind === 'retry' ? ['chat'] :
            c.script.stream_only ? ['stream'] : ['stream', 'chat'];
    }
    return list;
}

// Starts a mock on path; resolves to {proc, url} once it listens.
function startMock(bin, path) {
    return new Promise((resolve, reject) => {
        const proc = spawn(bin, ['--port', '0', '--host', '127.0.0.1',
            '--quiet', '--admin', '--no-watch', '--fixtures', path],
        { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '', err = '';
        const timer = setTimeout(() => {
            proc.kill('SIGKILL');
            reject(new Error(`${path}: the mock did not start: ${err}`));
        }, MOCK_MS);
        proc.stdout.on('data', (d) => {
            out += d;
            const m = /^nexus-mock listening on (\S+)\n/.exec(out);
            if (m) {
                clearTimeout(timer);
                resolve({ proc, url: m[1], stderr: () => err });
            }
        });
        proc.stderr.on('data', (d) => {
            err += d;
        });
        proc.on('error', (e) => {
            clearTimeout(timer);
            reject(e);
        });
        proc.on('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`${path}: the mock exited ${code}: ${err}`));
        });
    });
}

// Stops a mock by its PID (SIGTERM); resolves to null when it exited 0,
// else to what went wrong (its stderr says why: a sanitizer report).
function stopMock(m) {
    return new Promise((resolve) => {
        if (m.proc.exitCode !== null || m.proc.signalCode !== null) {
            resolve(`exited early (${m.proc.exitCode ?? m.proc.signalCode})`);
            return;
        }
        const timer = setTimeout(() => process.kill(m.proc.pid, 'SIGKILL'),
            MOCK_MS);
        m.proc.removeAllListeners('exit');
        m.proc.on('exit', (code, signal) => {
            clearTimeout(timer);
            resolve(code === 0 ? null : `exit ${code ?? signal}: ${
                m.stderr().slice(-2000)}`);
        });
        process.kill(m.proc.pid, 'SIGTERM');
    });
}

async function admin(url, method, path, body) {
    const res = await fetch(`${url}${path}`, { method,
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(MOCK_MS) });
    const json = await res.json();
    if (!res.ok)
        throw new Error(`${method} ${path}: ${res.status} ${
            JSON.stringify(json)}`);
    return json;
}

// An error message with what changes from run to run taken out.
function gist(message) {
    return String(message ?? '').split('\n')[0]
        .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT')
        .replace(/chatcmpl-[0-9a-f]+/g, 'chatcmpl-ID')
        .replace(/req_[0-9a-f]+/g, 'req_ID')
        .replace(/"created":\d+/g, '"created":TIME')
        .slice(0, GIST_CHARS);
}

// What the record keeps of one drive: nothing that changes between runs.
function entry(c, r) {
    return {
        fixture: c.fixture,
        client: r.client,
        scenario: r.scenario,
        outcome: r.outcome,
        attempts: r.requests.length,
        statuses: r.requests.map((a) => a.status),
        hang: r.hang?.phase ?? null,
        error: r.error ? { class: r.error.class, name: r.error.name,
            message: gist(r.error.message), status: r.error.status } : null,
        content: r.seen?.content ?? null,
        finish_reason: r.seen?.finish_reason ?? null,
        lost: r.lost,
    };
}

function driveOne(c, url, client, scenario) {
    return drive({ client, scenario, baseURL: `${url}/v1`,
        apiKey: c.script.key, model: c.script.model, prompt: 'hi',
        timeoutMs: BOUND_MS, backoffMs: BACKOFF_MS, maxRetries: MAX_RETRIES,
        expect: { content: c.script.content,
            finish_reason: c.script.finish_reason } });
}

// What the mock saw of a retry example's client (GET /_nexus/clients),
// once its journal holds every attempt the client made: the calls it
// grouped the attempts into (LangChain retries by itself and sends
// X-Stainless-Retry-Count 0 every time, so each of its attempts is a call
// of its own), in order.
async function retryReport(url, attempts) {
    for (let i = 0; i < 500; i++) {
        const j = await admin(url, 'GET', '/_nexus/requests?limit=0');
        if (j.matched >= attempts)
            break;
        await new Promise((r) => setTimeout(r, 10));
    }
    const rep = await admin(url, 'GET', '/_nexus/clients');
    return rep.clients.flatMap((cl) => cl.calls);
}

// Runs one fixture: its mock, its drives; resolves to its entries and the
// mock's retry reports, with the problems found on the way.
async function runCase(bin, c) {
    const out = { entries: [], reports: [], problems: [] };
    const m = await startMock(bin, c.path);
    try {
        if (c.kind === 'fault') {
            const runs = [];
            for (const client of CLIENTS)
                for (const s of c.scenarios)
                    runs.push(driveOne(c, m.url, client, s));
            for (const r of await Promise.all(runs))
                out.entries.push(entry(c, r));
        } else {
            for (const client of CLIENTS) {
                await admin(m.url, 'POST', '/_nexus/reset');
                const r = await driveOne(c, m.url, client, 'chat');
                const e = entry(c, r);
                const calls = await retryReport(m.url, r.requests.length);
                e.mock = calls.map((call) => ({ attempts: call.attempts,
                    outcome: call.outcome,
                    retry_count_headers: call.retry_count_headers,
                    retried_after_status: call.retried_after_status,
                    advised_wait_ms: call.tries.map((t) => t.advised_wait_ms),
                    honored_retry_after: call.honored_retry_after }));
                out.entries.push(e);
                out.reports.push({ fixture: c.fixture, client,
                    waits_ms: calls.map((call) => call.waits_ms),
                    sdk_waits_ms: r.retry_waits_ms });
            }
        }
    } finally {
        const bad = await stopMock(m);
        if (bad)
            out.problems.push(`${c.fixture}: the mock ${bad}`);
    }
    return out;
}

// What the openai SDK must have done with the retry examples, whatever the
// record says: every attempt counted in X-Stainless-Retry-Count, the
// advised retry-after-ms honoured, the scripted answer in the end.
function assertRetries(entries, reports) {
    const problems = [];
    const want = {
        'examples/retries.yaml': { attempts: 3, statuses: [500, 500, 200],
            retry_count_headers: [0, 1, 2] },
        'examples/rate-limited-retry.yaml': { attempts: 2,
            statuses: [429, 200], retry_count_headers: [0, 1],
            advised_wait_ms: [null, 100] },
    };
    for (const [fixture, w] of Object.entries(want)) {
        const e = entries.find((x) => x.fixture === fixture &&
            x.client === 'openai');
        const rep = reports.find((x) => x.fixture === fixture &&
            x.client === 'openai');
        const say = (what) => problems.push(`${fixture} openai: ${what}`);
        if (!e || !rep) {
            say('not run');
            continue;
        }
        // The SDK counts its retries, so the mock sees one call.
        const call = e.mock?.length === 1 ? e.mock[0] : null;
        const waits = rep.waits_ms[0] ?? [];
        if (e.outcome !== 'works')
            say(`outcome ${e.outcome}, want works`);
        if (call === null) {
            say(`the mock saw ${e.mock?.length} calls, want 1`);
            continue;
        }
        if (e.attempts !== w.attempts || call.attempts !== w.attempts)
            say(`${e.attempts} attempts (the mock saw ${call.attempts}), ` +
                `want ${w.attempts}`);
        if (JSON.stringify(e.statuses) !== JSON.stringify(w.statuses))
            say(`statuses ${JSON.stringify(e.statuses)}`);
        if (JSON.stringify(call.retry_count_headers) !==
            JSON.stringify(w.retry_count_headers))
            say(`X-Stainless-Retry-Count ${
                JSON.stringify(call.retry_count_headers)}`);
        if (call.outcome !== 'succeeded')
            say(`the mock says ${call.outcome}`);
        // Lower bounds: a loaded machine only makes a timer fire late.
        if (w.advised_wait_ms) {
            // Asked for 100 ms by retry-after-ms, 1 s by Retry-After: it
            // waited at least the 100 ms, and read retry-after-ms.
            if (call.honored_retry_after !== true ||
                JSON.stringify(call.advised_wait_ms) !==
                    JSON.stringify(w.advised_wait_ms) ||
                !(waits[0] + 2 >= 100 && waits[0] < 1000))
                say(`asked to wait 100 ms, waited ${waits[0]} ms (honored ${
                    call.honored_retry_after})`);
        } else if (!(waits[0] >= 370 && waits[1] >= 745)) {
            // The SDK's backoff: 0.5 s then 1 s, less up to a quarter.
            say(`backoff ${JSON.stringify(waits)} ms, want at least ` +
                '[375,750]');
        }
    }
    return problems;
}

// Runs the fault fixtures, JOBS at a time, the longest first; then the
// retry examples, together, so that their waits are not measured on an
// event loop busy with the faults. Resolves to one settled result per
// fixture of list, in its order.
async function runAll(bin, list) {
    const results = new Array(list.length);
    const run = async (i) => {
        try {
            results[i] = { status: 'fulfilled',
                value: await runCase(bin, list[i]) };
        } catch (e) {
            results[i] = { status: 'rejected', reason: e };
        }
    };
    const faults = list.map((c, i) => i)
        .filter((i) => list[i].kind === 'fault')
        .sort((a, b) => Number(LONG.has(list[b].name)) -
            Number(LONG.has(list[a].name)));
    const workers = Array.from({ length: JOBS }, async () => {
        while (faults.length)
            await run(faults.shift());
    });
    await Promise.all(workers);
    await Promise.all(list.map((c, i) => i)
        .filter((i) => list[i].kind === 'retry').map(run));
    return results;
}

const keyOf = (e) => `${e.fixture} ${e.client} ${e.scenario}`;

// The differences between the record and this run, as sentences (of the
// fixtures that ran: one that did not has said why).
function compare(recorded, now, ran) {
    const problems = [];
    const old = new Map(recorded.map((e) => [keyOf(e), e]));
    const seen = new Set();
    for (const e of now) {
        const k = keyOf(e);
        seen.add(k);
        const r = old.get(k);
        if (r === undefined) {
            problems.push(`${k}: not in the record (run --write)`);
            continue;
        }
        for (const f of new Set([...Object.keys(r), ...Object.keys(e)]))
            if (JSON.stringify(r[f]) !== JSON.stringify(e[f]))
                problems.push(`${k}: ${f} is ${JSON.stringify(e[f])}, the ` +
                    `record says ${JSON.stringify(r[f])}`);
    }
    for (const [k, r] of old)
        if (!seen.has(k) && ran.has(r.fixture))
            problems.push(`${k}: in the record but not run`);
    return problems;
}

const CLIENT_TITLES = { 'openai': 'openai', 'ai-sdk': 'AI SDK',
    'langchain': 'LangChain' };

function cell(e) {
    const md = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
    const tries = e.attempts > 1 ? ` (${e.attempts} attempts)` : '';
    switch (e.outcome) {
    case 'works':
        return md(`works: ${JSON.stringify(e.content)}, ${
            e.finish_reason}${tries}`);
    case 'loses-data':
        return md(`**loses data**: ${e.lost.join('; ')}${tries}`);
    case 'throws':
        return md(`throws ${e.error.class === 'Error' || !e.error.class ?
            e.error.name : e.error.class}${
            e.error.status ? ` ${e.error.status}` : ''}: ${
            e.error.message}${tries}${e.content === null ? '' :
            `; the user had ${JSON.stringify(e.content)}`}`);
    case 'hangs':
        return md(`**hangs** (${e.hang})${tries}`);
    }
    return md(e.outcome);
}

function markdown(record) {
    const out = [];
    out.push('# What the clients do with each fault', '',
        'Generated by `node tests/clients/fault-behaviour.mjs --mock ' +
        'PATH --write`; do not edit. The ctest `mock_fault_behaviour` ' +
        're-runs it and fails when an outcome here changes (the record is ' +
        '`docs/fault-behaviour.json`).', '',
        'Each fixture of `fixtures/faults/` (and the fault and retry ' +
        'examples of `fixtures/examples/`) is served by its own nexus-mock, ' +
        'and each client is driven through it as its README shows, with ' +
        `${MAX_RETRIES} retries allowed. An HTTP attempt still going after ` +
        `${BOUND_MS / 1000} s **hangs** (headers: no status yet; body: ` +
        'the status came, the body did not end), as does a wait of more ' +
        `than ${BACKOFF_MS / 1000} s before a retry. What the user got is ` +
        'compared with what the fixture scripted (its content and ' +
        'finish_reason): equal, the client **works**; different, it ' +
        '**loses data**; an exception, it **throws**.', '',
        `Clients (Node ${record.node}):`, '');
    for (const c of CLIENTS)
        out.push(`- ${CLIENT_TITLES[c]}: ${record.clients[c]}`);
    out.push('', '## Faults', '',
        'The `stream` scenario streams the completion; `chat` asks for it ' +
        'whole (only for the faults whose rule answers both).', '',
        '| Fixture | Scenario | Scripted | openai | AI SDK | LangChain |',
        '|---|---|---|---|---|---|');
    const rows = new Map();
    for (const e of record.entries) {
        const k = `${e.fixture} ${e.scenario}`;
        if (!rows.has(k))
            rows.set(k, { fixture: e.fixture, scenario: e.scenario,
                cells: {} });
        rows.get(k).cells[e.client] = e;
    }
    const retryRows = [];
    for (const r of rows.values()) {
        const f = record.fixtures[r.fixture];
        if (f.kind === 'retry') {
            retryRows.push(r);
            continue;
        }
        out.push(`| \`${r.fixture}\` | ${r.scenario} | ${
            JSON.stringify(f.content)}, ${f.finish_reason} | ${
            CLIENTS.map((c) => cell(r.cells[c])).join(' | ')} |`);
    }
    out.push('', '## Retries', '',
        'The retry examples, each client on a fresh mock state. The mock\'s ' +
        'view is `GET /_nexus/clients`: attempts, the ' +
        '`X-Stainless-Retry-Count` each attempt sent, the statuses retried, ' +
        'the wait each answer advised (`retry-after-ms`) and whether it was ' +
        'honoured. A client that sends `X-Stainless-Retry-Count: 0` on ' +
        'every attempt (LangChain retries by itself, its inner openai ' +
        'client allowed none) says each is a first attempt, so the mock ' +
        'counts each as a call of its own and cannot judge its waits.', '',
        '| Fixture | Client | Outcome | Calls the mock saw: attempts, ' +
        'Retry-Count headers, retried after, advised waits (ms), honoured |',
        '|---|---|---|---|');
    for (const r of retryRows)
        for (const c of CLIENTS) {
            const e = r.cells[c];
            const calls = e.mock.map((m) => `${m.attempts}, ${
                JSON.stringify(m.retry_count_headers)}, ${
                JSON.stringify(m.retried_after_status)}, ${
                JSON.stringify(m.advised_wait_ms)}, ${
                m.honored_retry_after}`);
            out.push(`| \`${r.fixture}\` | ${CLIENT_TITLES[c]} | ${cell(e)} | ${
                e.mock.length} call${e.mock.length === 1 ? '' : 's'}: ${
                calls.map((x) => `(${x})`).join('; ')} |`);
        }
    out.push('');
    return out.join('\n');
}

async function main() {
    let o;
    if (Number(process.versions.node.split('.')[0]) < 20) {
        process.stderr.write('fault-behaviour.mjs: Node.js 20 or later is ' +
            `needed (this is ${process.version})\n`);
        process.exit(1);
    }
    try {
        o = parseArgs(process.argv.slice(2));
    } catch (e) {
        process.stderr.write(`fault-behaviour.mjs: ${e.message}\n`);
        process.exit(2);
    }
    // The openai package prints every chunk it cannot parse (console.error);
    // the record says what the user got, so that noise stays out.
    console.error = () => {};
    const t0 = performance.now();
    const list = cases();
    const results = await runAll(o.mock, list);
    const entries = [], reports = [], problems = [];
    const ran = new Set();
    results.forEach((r, i) => {
        if (r.status === 'fulfilled')
            ran.add(list[i].fixture);
        if (r.status === 'rejected') {
            problems.push(`${list[i].fixture}: ${r.reason?.message ??
                r.reason}`);
            return;
        }
        entries.push(...r.value.entries);
        reports.push(...r.value.reports);
        problems.push(...r.value.problems);
    });
    const order = new Map(list.map((c, i) => [c.fixture, i]));
    const rank = (e) => order.get(e.fixture) * 100 +
        CLIENTS.indexOf(e.client) * 10 + (e.scenario === 'chat' ? 1 : 0);
    entries.sort((a, b) => rank(a) - rank(b));
    problems.push(...assertRetries(entries, reports));
    const record = {
        generated_by: 'node tests/clients/fault-behaviour.mjs --write',
        node: process.versions.node.split('.')[0],
        clients: CLIENT_PACKAGES, versions: VERSIONS,
        bound_ms: BOUND_MS, backoff_ms: BACKOFF_MS, max_retries: MAX_RETRIES,
        fixtures: Object.fromEntries(list.map((c) => [c.fixture,
            { kind: c.kind, content: c.script.content,
                finish_reason: c.script.finish_reason }])),
        entries,
    };
    if (o.mode === 'write' && problems.length === 0) {
        writeFileSync(o.json, `${JSON.stringify(record, null, 2)}\n`);
        writeFileSync(o.markdown, markdown(record));
    } else if (o.mode === 'check') {
        let recorded;
        try {
            recorded = JSON.parse(readFileSync(o.json, 'utf8'));
        } catch (e) {
            problems.push(`${o.json}: ${e.message}`);
        }
        if (recorded) {
            if (JSON.stringify(recorded.versions) !==
                JSON.stringify(VERSIONS))
                problems.push(`the record is of ${JSON.stringify(
                    recorded.versions)}, installed are ${
                    JSON.stringify(VERSIONS)}`);
            problems.push(...compare(recorded.entries ?? [], entries, ran));
        }
    }
    for (const r of reports)
        process.stdout.write(`# ${r.fixture} ${r.client}: waits measured ` +
            `by the mock ${JSON.stringify(r.waits_ms)} ms, by the client ${
                JSON.stringify(r.sdk_waits_ms)} ms\n`);
    for (const p of problems)
        process.stdout.write(`FAIL: ${p}\n`);
    process.stdout.write(`${list.length} fixtures, ${entries.length} ` +
        `drives, ${problems.length} problems, ${
            ((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    // Held-open connections must not keep the process.
    process.exit(problems.length ? 1 : 0);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
    await main();
