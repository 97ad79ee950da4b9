// What the browser suite shares: a real `openlab serve` on a free loopback port with a fresh
// state directory and the built console (--console-dir), seeded through its API; Debian's
// Chromium driven by playwright-core (no browser is downloaded); the axe-core scan; the largest
// contentful paint; screenshots under $OPENLAB_ARTIFACTS.
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const here = new URL('.', import.meta.url).pathname;

export const paths = {
  bin: process.env.OPENLAB_BIN ?? resolve(here, '../../build/openlab'),
  consoleDir: process.env.OPENLAB_CONSOLE_DIR ?? resolve(here, '../../build/console'),
  artifacts: process.env.OPENLAB_ARTIFACTS ?? resolve(here, '../../build/console-artifacts'),
  chromium: process.env.CHROMIUM ?? '/usr/bin/chromium',
  axe: require.resolve('axe-core/axe.min.js'),
};

const ended = new Set(['completed', 'failed', 'cancelled', 'timeout', 'node_fail', 'preempted']);

// Cancels, as the operator, every job of the server not yet ended, and waits (up to 30 s) until
// all have ended.
async function endJobs(url, token) {
  const call = async (method, path) => {
    const r = await fetch(url + path, { method, headers: { Authorization: `Bearer ${token}` } });
    return r.ok && method === 'GET' ? r.json() : null;
  };
  const open = async () => {
    const out = [];
    for (const state of ['queued', 'held', 'starting', 'running', 'completing']) {
      const page = await call('GET', `/api/v1/jobs?state=${state}&limit=500`);
      out.push(...(page?.items ?? []));
    }
    return out;
  };
  for (const j of await open()) await call('POST', `/api/v1/jobs/${j.id}/cancel`);
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    const left = (await open()).filter((j) => !ended.has(j.state));
    if (left.length === 0) return;
    await new Promise((ok) => setTimeout(ok, 200));
  }
}

// Starts `openlab serve` (with `extra` arguments after the harness's own) and resolves once it
// listens; rejects with its log if it exits first.
export async function startServer(extra = []) {
  const state = await mkdtemp(join(tmpdir(), 'openlab-console-'));
  const args = ['serve', '--listen', '127.0.0.1:0', '--state', state, '--console-dir', paths.consoleDir,
    '--request-log', 'errors', ...extra];
  const child = spawn(paths.bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const listening = new Promise((ok, fail) => {
    const lines = createInterface({ input: child.stderr });
    lines.on('line', (line) => {
      log += line + '\n';
      if (line.includes('"msg":"listening"')) ok(JSON.parse(line).url);
    });
    child.on('error', fail);
    child.on('exit', (code) => fail(new Error(`openlab serve exited (${code}) before listening:\n${log}`)));
  });
  let url;
  try {
    url = await listening;
  } catch (e) {
    await rm(state, { recursive: true, force: true });
    throw e;
  }
  child.removeAllListeners('exit');
  const token = (await readFile(join(state, 'bootstrap-token'), 'utf8')).trim();
  return {
    url,
    state,
    token,
    log: () => log,
    async stop() {
      // Jobs outlive the server (each under its supervisor): the operator cancels every one not
      // yet ended, and waits until they have, so that no test leaves a process behind.
      if (child.exitCode === null) await endJobs(url, token).catch(() => {});
      if (child.exitCode === null) {
        const exited = new Promise((ok) => child.once('exit', ok));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(state, { recursive: true, force: true });
    },
  };
}

// A caller of the API: with a bearer token, or with a cookie session and its CSRF token.
export function client(base, auth = {}) {
  return async function call(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (auth.token) headers.Authorization = `Bearer ${auth.token}`;
    if (auth.cookie) headers.Cookie = auth.cookie;
    if (auth.csrf && method !== 'GET') headers['X-CSRF-Token'] = auth.csrf;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : null;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return { json, headers: res.headers };
  };
}

export const alice = { username: 'alice', password: 'a long passphrase for alice' };

// The datasheet of the public dataset: Markdown with a table, and the HTML and links a hostile
// owner might write, which the page must show as text or drop.
export const datasheet = `# Air quality in Gwangju

Hourly PM2.5 and PM10 readings from **48 stations**, 2023 to 2025.

| column | unit |
| --- | --- |
| pm25 | µg/m³ |
| pm10 | µg/m³ |

<script>window.__datasheetScript = 1</script>

<img src="x" onerror="window.__datasheetImg = 1">

See [the stations](https://example.org/stations) and [a link that runs code](javascript:window.__datasheetLink=1).
`;

// An organisation, alice (its member, with a password), her project, a public dataset with one
// pushed version, and a dataset only the project's members may see.
export async function seed(server) {
  const op = client(server.url, { token: server.token });
  const org = (await op('POST', '/api/v1/orgs', {
    name: 'gist', kind: 'university', region: 'KR-29', display_name: 'GIST',
  })).json;
  await op('POST', '/api/v1/users', {
    username: alice.username, email: 'alice@gist.example', display_name: 'Alice Kim', password: alice.password,
  });
  await op('PUT', `/api/v1/orgs/${org.id}/members/alice`, { role: 'member' });
  const project = (await op('POST', '/api/v1/projects', {
    org_id: org.id, name: 'traffic-ai', pi: 'alice', title: 'Traffic signal AI',
  })).json;

  // alice signs in with her password, as the console does, and works through her session.
  const login = await client(server.url)('POST', '/api/v1/login', alice);
  const cookie = login.headers.get('set-cookie').split(';')[0];
  const as = client(server.url, { cookie, csrf: login.json.csrf_token });
  const open = (await as('POST', '/api/v1/datasets', {
    project_id: project.id, name: 'air-quality', title: 'Air quality in Gwangju',
    description: 'Hourly particulate readings from the city\'s stations.', license: 'CC-BY-4.0',
    access_level: 'open', tags: ['environment', 'urban'], datasheet, accepts_contributions: true,
  })).json;
  const closed = (await as('POST', '/api/v1/datasets', {
    project_id: project.id, name: 'clinic-visits', title: 'Clinic visits of the project',
    description: 'Visits to the partner clinics.', license: 'proprietary', access_level: 'project',
    tags: ['health'],
  })).json;
  const token = (await as('POST', '/api/v1/tokens', {
    name: 'push', scopes: ['data:read', 'data:write'], expires_in_days: 1,
  })).json.secret;

  // A version of the public dataset, pushed with the CLI as its owner would.
  const dir = await mkdtemp(join(tmpdir(), 'openlab-console-data-'));
  await mkdir(join(dir, 'stations'));
  await writeFile(join(dir, 'readings.csv'), 'station,hour,pm25,pm10\nS01,2024-01-01T00,12.5,30.1\n');
  await writeFile(join(dir, 'stations', 'list.csv'), 'station,lat,lon\nS01,35.16,126.85\n');
  await promisify(execFile)(paths.bin, ['data', 'push', dir, open.id, '--tag', 'v1'], {
    env: { ...process.env, OPENLAB_URL: server.url, OPENLAB_TOKEN: token, HOME: dir },
  });
  await rm(dir, { recursive: true, force: true });
  return { org, project, open, closed };
}

// Debian's Chromium. A browser that cannot start fails the suite: there is no skipping.
export async function launchBrowser() {
  try {
    return await chromium.launch({ executablePath: paths.chromium, headless: true });
  } catch (e) {
    throw new Error(`Chromium did not start from ${paths.chromium} (install Debian's chromium: scripts/deps.sh): ${e.message}`);
  }
}

// A browser context as a person's: its language, and the largest-contentful-paint entries kept
// for lcp(). The server's CSP allows no inline script, so the context bypasses it for axe's.
export async function newContext(browser, { locale = 'en-GB' } = {}) {
  const context = await browser.newContext({ locale, bypassCSP: true, viewport: { width: 1280, height: 900 } });
  await context.addInitScript(() => {
    window.__lcp = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        window.__lcp.push({ time: e.startTime, element: e.element ? e.element.tagName.toLowerCase() : null });
      }
    }).observe({ type: 'largest-contentful-paint', buffered: true });
  });
  return context;
}

// The page's largest contentful paint so far (ms from navigation start), printed, not asserted.
export async function reportLcp(page, name) {
  // Two frames: the paint of what was just shown is reported before reading.
  const entries = await page.evaluate(
    () => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(() => ok(window.__lcp)))),
  );
  const last = entries[entries.length - 1];
  console.log(last ? `LCP ${name}: ${Math.round(last.time)} ms (${last.element})` : `LCP ${name}: none reported`);
}

// axe-core's scan of the page: the serious and critical violations, each with where it is.
export async function axeViolations(page) {
  await page.addScriptTag({ path: paths.axe });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

export async function screenshot(page, name) {
  await mkdir(paths.artifacts, { recursive: true });
  await page.screenshot({ path: join(paths.artifacts, `${name}.png`), fullPage: true });
}
