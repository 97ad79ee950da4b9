// The web console's first pages in Chromium against a running openlab server (bench/console_lcp.sh
// starts one, empty, then seeded at city scale): each page loaded N times cold (a new browser
// context each time: no cache, no service worker), its largest contentful paint read from a
// PerformanceObserver (buffered) once the page's list has rendered, and where the time went: the
// page's scripts, GET /api/v1/me, the list's own API call, the list on screen. Also the gzip size
// of the JavaScript the public pages load and of each chunk loaded later with import().
//
//   node bench/console_lcp.mjs measure URL LABEL OUT.json [LOADS]   (env: OPERATOR, MEMBER,
//                                                                   PASSWORD: who signs in)
//   node bench/console_lcp.mjs report CONSOLE_DIR BASELINE.json SEEDED.json
//
// playwright-core comes from console/node_modules (scripts/console.sh deps); the browser is
// Debian's Chromium ($CHROMIUM, default /usr/bin/chromium), as in the browser suite.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const repo = resolve(new URL('.', import.meta.url).pathname, '..');
const require = createRequire(join(repo, 'console', 'package.json'));

// The pages: where, who, and when the page's list has rendered (its container no longer busy),
// with what counts as one of its items.
const pages = [
  {
    name: 'catalogue, anonymous',
    path: '/datasets',
    who: null,
    api: /\/api\/v1\/datasets\?/,
    ready: 'main [aria-busy="false"] [role="status"]',
    items: 'main .dataset-list > li',
  },
  {
    name: 'catalogue, signed in (member)',
    path: '/datasets',
    who: 'MEMBER',
    api: /\/api\/v1\/datasets\?/,
    ready: 'main [aria-busy="false"] [role="status"]',
    items: 'main .dataset-list > li',
  },
  {
    name: 'catalogue, signed in (operator)',
    path: '/datasets',
    who: 'OPERATOR',
    api: /\/api\/v1\/datasets\?/,
    ready: 'main [aria-busy="false"] [role="status"]',
    items: 'main .dataset-list > li',
  },
  {
    name: 'operator queue (/ops, queued)',
    path: '/ops',
    who: 'OPERATOR',
    api: /\/api\/v1\/jobs\?.*state=queued/,
    ready: 'section[aria-labelledby="jobs-queued"] [aria-busy="false"]',
    items: 'section[aria-labelledby="jobs-queued"] tbody > tr',
  },
];

function pct(v, p) {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}
const median = (v) => pct(v, 0.5);
const max = (v) => Math.max(...v);
const ms = (x) => (x === null || x === undefined || Number.isNaN(x) ? '   -' : `${Math.round(x)}`.padStart(4));

// Signs `username` in through the API, as the sign-in form does: the session cookie.
async function login(url, username, password) {
  const res = await fetch(`${url}/api/v1/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`login of ${username}: ${res.status} ${await res.text()}`);
  const [pair] = res.headers.get('set-cookie').split(';');
  const eq = pair.indexOf('=');
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), url };
}

// One cold load of `page`: what it showed and when (ms from navigation start).
async function load(browser, url, page, cookie) {
  const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 } });
  await context.addInitScript(() => {
    window.__lcp = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const el = e.element;
        window.__lcp.push({
          time: e.startTime,
          size: e.size,
          element: el ? el.tagName.toLowerCase() + (el.className ? `.${String(el.className).split(' ')[0]}` : '') : null,
        });
      }
    }).observe({ type: 'largest-contentful-paint', buffered: true });
  });
  if (cookie) await context.addCookies([cookie]);
  const tab = await context.newPage();
  try {
    await tab.goto(url + page.path, { waitUntil: 'commit' });
    // The moment (a frame's precision) the list's container stopped being busy.
    const shown = await tab.waitForFunction(
      (sel) => (document.querySelector(sel) ? performance.now() : null),
      page.ready,
      { polling: 'raf', timeout: 30000 },
    );
    const rendered = await shown.jsonValue();
    // Two frames: the paint of what was just shown is reported before reading.
    const got = await tab.evaluate(
      ([apiSource, itemsSel]) =>
        new Promise((ok) =>
          requestAnimationFrame(() =>
            requestAnimationFrame(() => {
              const api = new RegExp(apiSource);
              const res = performance.getEntriesByType('resource');
              const nav = performance.getEntriesByType('navigation')[0];
              const calls = res
                .filter((r) => r.name.includes('/api/'))
                .map((r) => ({
                  path: new URL(r.name).pathname + new URL(r.name).search,
                  status: r.responseStatus,
                  start: r.startTime,
                  end: r.responseEnd,
                }));
              const scripts = res.filter((r) => /\/assets\/.*\.js$/.test(r.name));
              ok({
                lcp: window.__lcp,
                calls,
                list: calls.find((c) => api.test(c.path)) ?? null,
                me: calls.find((c) => c.path.startsWith('/api/v1/me')) ?? null,
                html: nav ? nav.responseEnd : null,
                fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
                scriptsEnd: scripts.length ? Math.max(...scripts.map((r) => r.responseEnd)) : null,
                scripts: scripts.map((r) => ({ file: new URL(r.name).pathname, bytes: r.encodedBodySize })),
                items: document.querySelectorAll(itemsSel).length,
              });
            }),
          ),
        ),
      [page.api.source, page.items],
    );
    // The page was seen by whom it was meant for: /me answered 200 with a session, 401 without
    // (read after the figures: the list may be on screen before /me has answered).
    const status = await (
      await tab.waitForFunction(
        () => performance.getEntriesByType('resource').find((r) => r.name.includes('/api/v1/me'))?.responseStatus,
        null,
        { polling: 50, timeout: 30000 },
      )
    ).jsonValue();
    const want = cookie ? 200 : 401;
    if (status !== want) throw new Error(`GET /api/v1/me answered ${status}, not ${want}`);
    const last = got.lcp[got.lcp.length - 1] ?? null;
    return { ...got, rendered, lcp: last ? last.time : null, lcpElement: last ? last.element : null };
  } catch (e) {
    throw new Error(`${page.name}: ${e.message} (the list's mark: ${page.ready})`);
  } finally {
    await context.close();
  }
}

async function measure(url, label, out, loads) {
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true });
  const password = process.env.PASSWORD;
  const cookies = {};
  for (const who of ['MEMBER', 'OPERATOR']) cookies[who] = await login(url, process.env[who], password);
  const results = [];
  try {
    // One load of each first, not counted: Chromium's own start-up (its first process, its
    // first compile of the scripts' engine) is not the page's.
    for (const page of pages) await load(browser, url, page, page.who ? cookies[page.who] : null);
    for (const page of pages) {
      const runs = [];
      for (let i = 0; i < loads; i++) runs.push(await load(browser, url, page, page.who ? cookies[page.who] : null));
      results.push({ page: page.name, path: page.path, runs });
      const col = (f) => runs.map(f).filter((x) => x !== null && x !== undefined);
      const lcp = col((r) => r.lcp);
      const api = col((r) => (r.list ? r.list.end - r.list.start : null));
      console.log(
        `${label}: ${page.name.padEnd(32)} LCP p50 ${ms(median(lcp))} ms max ${ms(max(lcp))} ms` +
          ` | list API ${ms(median(api))} / ${ms(max(api))} ms | ${runs[0].items} items` +
          ` | LCP element ${runs[runs.length - 1].lcpElement}`,
      );
    }
  } finally {
    await browser.close();
  }
  // The same API calls from here, one at a time (no browser beside them): the server's share.
  const direct = {};
  const calls = [
    ['/api/v1/centre', null],
    ['/api/v1/me', 'OPERATOR'],
    ['/api/v1/datasets?limit=25', null],
    ['/api/v1/datasets?limit=25', 'MEMBER'],
    ['/api/v1/datasets?limit=25', 'OPERATOR'],
    ['/api/v1/jobs?state=queued&order=newest&limit=50', 'OPERATOR'],
    ['/api/v1/jobs?state=running&order=newest&limit=50', 'OPERATOR'],
  ];
  for (const [path, who] of calls) {
    const headers = { Accept: 'application/json' };
    if (who) headers.Cookie = `${cookies[who].name}=${cookies[who].value}`;
    const times = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      const res = await fetch(url + path, { headers });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
      times.push(performance.now() - t);
    }
    direct[`${path} (${who ? who.toLowerCase() : 'anonymous'})`] = times;
  }
  await writeFile(out, JSON.stringify({ label, loads, results, direct }, null, 1));
}

// gzip at the best level, as the server sends the console's files.
async function gz(dir, file) {
  return gzipSync(await readFile(join(dir, file)), { level: 9 }).length;
}

async function sizes(dir) {
  const html = await readFile(join(dir, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/<(script|link)\b[^>]*?(?:src|href)="\/(assets\/[^"]+\.js)"[^>]*>/g)].map((m) => m[2]);
  const all = (await readdir(join(dir, 'assets'))).filter((f) => f.endsWith('.js')).map((f) => `assets/${f}`);
  const initial = [];
  for (const f of refs) initial.push({ file: f, gzip: await gz(dir, f) });
  const lazy = [];
  for (const f of all.filter((f) => !refs.includes(f))) lazy.push({ file: f, gzip: await gz(dir, f) });
  let css = 0;
  for (const m of html.matchAll(/<link\b[^>]*?href="\/(assets\/[^"]+\.css)"[^>]*>/g)) css += await gz(dir, m[1]);
  return { initial, lazy, css };
}

async function report(dir, baselineFile, seededFile) {
  const base = JSON.parse(await readFile(baselineFile, 'utf8'));
  const seeded = JSON.parse(await readFile(seededFile, 'utf8'));
  const kb = (b) => `${(b / 1024).toFixed(1)} KB`;
  const stat = (runs, f) => {
    const v = runs.map(f).filter((x) => x !== null && x !== undefined);
    return v.length ? `${ms(median(v))} / ${ms(max(v))}` : '   - /    -';
  };
  console.log(`\nms from navigation start, p50 / max of ${seeded.loads} cold loads each:`);
  console.log(
    `${'page'.padEnd(32)} ${'centre'.padEnd(14)} ${'LCP'.padEnd(11)} ${'list shown'.padEnd(11)}` +
      ` ${'list API'.padEnd(11)} ${'its start'.padEnd(11)} ${'/me'.padEnd(11)} ${'scripts in'.padEnd(11)}` +
      ` ${'FCP'.padEnd(11)} items`,
  );
  for (const r of seeded.results) {
    for (const [which, data] of [[base.label, base], [seeded.label, seeded]]) {
      const runs = data.results.find((x) => x.page === r.page).runs;
      console.log(
        `${r.page.padEnd(32)} ${which.padEnd(14)} ${stat(runs, (x) => x.lcp)} ${stat(runs, (x) => x.rendered)}` +
          ` ${stat(runs, (x) => (x.list ? x.list.end - x.list.start : null))}` +
          ` ${stat(runs, (x) => (x.list ? x.list.start : null))}` +
          ` ${stat(runs, (x) => (x.me ? x.me.end - x.me.start : null))}` +
          ` ${stat(runs, (x) => x.scriptsEnd)} ${stat(runs, (x) => x.fcp)} ${runs[0].items}`,
      );
    }
  }
  // Where the slowest load of each seeded page spent its time.
  console.log('\nthe slowest seeded load of each page, ms from navigation start:');
  for (const r of seeded.results) {
    const w = r.runs.reduce((a, b) => ((b.lcp ?? 0) > (a.lcp ?? 0) ? b : a));
    const at = (c) => (c ? `${ms(c.start)}-${ms(c.end)}` : '-');
    console.log(
      `  ${r.page.padEnd(32)} html ${ms(w.html)}, scripts ${ms(w.scriptsEnd)}, FCP ${ms(w.fcp)}, /me ${at(w.me)},` +
        ` list API ${at(w.list)}, shown ${ms(w.rendered)}, LCP ${ms(w.lcp)} (${w.lcpElement})`,
    );
  }

  // The slowest API calls of the seeded run, by path (ids folded).
  const calls = new Map();
  for (const r of seeded.results) {
    for (const run of r.runs) {
      for (const c of run.calls) {
        const key = c.path.replace(/\/[0-9a-z]{2,4}_[0-9A-Za-z]+/g, '/ID').replace(/cursor=[^&]+/, 'cursor=C');
        if (!calls.has(key)) calls.set(key, []);
        calls.get(key).push(c.end - c.start);
      }
    }
  }
  console.log('\nAPI calls of the seeded loads, ms p50 / max (count):');
  for (const [k, v] of [...calls].sort((a, b) => median(b[1]) - median(a[1]))) {
    console.log(`  ${ms(median(v))} / ${ms(max(v))}  (${v.length})  ${k}`);
  }
  console.log('\nthe same calls from node, one at a time, 20 each, ms p50 / max:');
  console.log(`  ${''.padEnd(68)} ${base.label.padEnd(11)} ${seeded.label}`);
  for (const k of Object.keys(seeded.direct)) {
    const f = (v) => (v ? `${ms(median(v))} / ${ms(max(v))}` : '-');
    console.log(`  ${k.padEnd(68)} ${f(base.direct[k])} ${f(seeded.direct[k])}`);
  }

  const anon = seeded.results.find((x) => x.page === pages[0].name).runs[0];
  console.log(`\nscripts a cold anonymous catalogue load fetched: ${anon.scripts.map((s) => `${s.file} ${kb(s.bytes)}`).join(', ')}`);
  const { initial, lazy, css } = await sizes(dir);
  const sum = initial.reduce((a, f) => a + f.gzip, 0);
  console.log(`JavaScript of the public pages (index.html's scripts and modulepreloads), gzip -9: ${kb(sum)} (budget 200 KB)`);
  if (sum >= 200 * 1024) console.log('  OVER the 200 KB budget');
  for (const f of initial) console.log(`  ${f.file}: ${kb(f.gzip)}`);
  console.log(`  and ${kb(css)} of CSS`);
  console.log('loaded later with import(), gzip -9:');
  for (const f of lazy) console.log(`  ${f.file}: ${kb(f.gzip)}`);

  // The target: the largest contentful paint under 1 s on the seeded centre, at every load.
  console.log('\nLCP under 1 s on the seeded centre, at every load (the list on screen, too):');
  for (const r of seeded.results) {
    const lcp = max(r.runs.map((x) => x.lcp ?? Infinity));
    const shown = max(r.runs.map((x) => x.rendered));
    const ok = (x) => (x < 1000 ? 'yes' : 'NO');
    console.log(`  ${r.page.padEnd(32)} ${ok(lcp)} (max ${ms(lcp)} ms; list shown max ${ms(shown)} ms: ${ok(shown)})`);
  }
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'measure') {
  await measure(args[0], args[1], args[2], Number(args[3] ?? 7));
} else if (mode === 'report') {
  await report(args[0], args[1], args[2]);
} else {
  console.error('usage: console_lcp.mjs measure URL LABEL OUT.json [LOADS] | report CONSOLE_DIR BASELINE.json SEEDED.json');
  process.exit(2);
}
