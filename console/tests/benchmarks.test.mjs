// The benchmarks' pages in Chromium against a real `openlab serve` (its scorer thread scores each
// submission): a PI pushes a hidden ground truth and publishes a public benchmark with three
// phases (ended, open, upcoming); two participants submit through the API. An anonymous visitor
// finds it from the navigation and reads its phases (the current one marked), metrics and rules
// and the leaderboard; a participant signs in, sends a malformed file and is told its first bad
// line next to the field, sends a good one and sees it queued then scored, with its quota, its
// history and its scores; the leaderboard ranks the three (a tie shared), by another metric too,
// paged from the address; the private ranking is disabled for him with its reason until the phase
// ends; a cancel the server refuses and a file over the day's quota are told in words; he issues a
// signed report, and an anonymous visitor reads it, downloads the file and the key it points to,
// and `openlab report verify` checks them offline; the submission lists its reports, issues another
// and opens it from the list. Once the organiser takes code, a code form appears: a missing folder
// and command, code too large for the rules and a path the server refuses are told in words, and
// a folder sent with its command is listed, run in the sandbox and scored; where the phase's
// ingestion program runs the code, a folder is sent without a command and scored. Every page passes
// axe-core with no serious or critical violation and is photographed under $OPENLAB_ARTIFACTS;
// the pages speak Korean too.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  alice,
  axeViolations,
  client,
  launchBrowser,
  newContext,
  paths,
  reportLcp,
  screenshot,
  seed,
  startServer,
} from './harness.mjs';

const run = promisify(execFile);
const bob = { username: 'bob', password: 'a long passphrase for bob' };
const carol = { username: 'carol', password: 'a long passphrase for carol' };
const dave = { username: 'dave', password: 'a long passphrase for dave' };
const title = 'Gwangju traffic jams';
const name = 'traffic-jams';

// 200 test rows, r000 to r199, every other one a jam (1).
const ids = Array.from({ length: 200 }, (_, i) => `r${String(i).padStart(3, '0')}`);
const truth = 'id,label\n' + ids.map((id, i) => `${id},${i % 2}`).join('\n') + '\n';
// Right on every row (bob's and carol's: the same file, so a tie), and right on a fraction (dave).
const perfect = 'id,score\n' + ids.map((id, i) => `${id},${i % 2 ? 0.9 : 0.1}`).join('\n') + '\n';
const rough = 'id,score\n' + ids.map((id, i) => `${id},${i % 3 === 0 ? 0.9 : 0.1}`).join('\n') + '\n';
// Line 8 repeats the id of line 7.
const malformed = 'id,score\n' + ids.slice(0, 6).map((id) => `${id},0.5`).join('\n') + `\n${ids[5]},0.5\n`;

const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

describe('the benchmarks', () => {
  let server;
  let browser;
  let page;      // bob's browser (anonymous until he signs in)
  let benchmark;
  let reportUrl;
  const apis = {};

  async function check(p, shot) {
    await screenshot(p, shot);
    assert.deepEqual(await axeViolations(p), [], `axe on ${shot}`);
  }

  async function session(who) {
    const login = await client(server.url)('POST', '/api/v1/login', who);
    return client(server.url, { cookie: login.headers.get('set-cookie').split(';')[0], csrf: login.json.csrf_token });
  }

  // A predictions file sent through the API, as the CLI sends it.
  async function submit(who, body) {
    const login = await client(server.url)('POST', '/api/v1/login', who);
    const res = await fetch(`${server.url}/api/v1/benchmarks/${benchmark.id}/submissions?phase=main`, {
      method: 'POST',
      headers: {
        Cookie: login.headers.get('set-cookie').split(';')[0],
        'X-CSRF-Token': login.json.csrf_token,
        'Content-Type': 'text/csv',
      },
      body,
    });
    assert.equal(res.status, 201, await res.clone().text());
    return res.json();
  }

  // Waits, through the API, until the submission has ended (the scorer takes a second or two).
  async function scored(call, id) {
    for (let i = 0; i < 300; i++) {
      const s = (await call('GET', `/api/v1/submissions/${id}`)).json;
      if (['scored', 'failed', 'invalid', 'cancelled'].includes(s.state)) return s;
      await new Promise((ok) => setTimeout(ok, 100));
    }
    throw new Error(`submission ${id} was not scored`);
  }

  async function signIn(p, who) {
    await p.goto(`${server.url}/signin`);
    await p.getByLabel('Username').fill(who.username);
    await p.getByLabel('Password').fill(who.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('button', { name: 'Sign out' }).waitFor();
  }

  before(async () => {
    server = await startServer();
    const world = await seed(server);
    const op = client(server.url, { token: server.token });
    for (const who of [bob, carol, dave]) {
      await op('POST', '/api/v1/users', {
        username: who.username, email: `${who.username}@example.org`, display_name: who.username,
        password: who.password,
      });
    }
    // The ground truth: a hidden dataset of alice's project, pushed with the CLI.
    const asAlice = await session(alice);
    const hidden = (await asAlice('POST', '/api/v1/datasets', {
      project_id: world.project.id, name: 'traffic-truth', title: 'Traffic jams: the answers',
      description: 'Ground truth of the traffic benchmark.', license: 'proprietary', access_level: 'hidden',
    })).json;
    const token = (await asAlice('POST', '/api/v1/tokens', {
      name: 'truth', scopes: ['data:read', 'data:write'], expires_in_days: 1,
    })).json.secret;
    const dir = await mkdtemp(join(tmpdir(), 'openlab-console-truth-'));
    try {
      await writeFile(join(dir, 'truth.csv'), truth);
      await run(paths.bin, ['data', 'push', dir, hidden.id, '--tag', 'v1'], {
        env: { ...process.env, OPENLAB_URL: server.url, OPENLAB_TOKEN: token, HOME: dir },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const now = Date.now();
    const day = 86400_000;
    const phase = (n, starts, ends) => ({
      name: n, starts_at: iso(starts), ends_at: iso(ends), truth_dataset: hidden.id, truth_file: 'truth.csv',
    });
    benchmark = (await asAlice('POST', '/api/v1/benchmarks', {
      project_id: world.project.id, name, title,
      description: '# Where will traffic jam?\n\nPredict, for each **road segment and hour**, whether it jams.',
      task_type: 'binary', visibility: 'public',
      metrics: [{ name: 'accuracy', primary: true }, 'roc_auc', 'brier'],
      rules: { max_per_day: 5, max_total: 100, counts: 'best' },
      phases: [
        phase('warm-up', now - 20 * day, now - 10 * day),
        phase('main', now - day, now + 30 * day),
        phase('final', now + 30 * day, now + 40 * day),
      ],
    })).json;
    apis.alice = asAlice;
    apis.bob = await session(bob);
    apis.carol = await session(carol);
    const c = await submit(carol, perfect);
    const d = await submit(dave, rough);
    assert.equal((await scored(apis.carol, c.id)).state, 'scored');
    assert.equal((await scored(await session(dave), d.id)).state, 'scored');
    browser = await launchBrowser();
    page = await (await newContext(browser)).newPage();
  });

  after(async () => {
    await browser?.close();
    if (server) {
      if (process.exitCode) console.error(server.log());
      await server.stop();
    }
  });

  it('lists the public benchmark for an anonymous visitor, from the navigation', async () => {
    await page.goto(server.url + '/');
    await page.getByRole('link', { name: 'See the benchmarks' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Benchmarks' }).click();
    await page.waitForURL(server.url + '/benchmarks');
    await page.getByRole('heading', { level: 1, name: 'Benchmarks' }).waitFor();
    const item = page.locator('.dataset-item', { has: page.getByRole('link', { name: title }) });
    await item.waitFor();
    assert.equal(await page.getByRole('status').first().textContent(), 'Benchmarks shown: 1');
    assert.match(await item.textContent(), /traffic-jams · Binary classification · Public/);
    assert.match(await item.locator('.bench-item-phase').textContent(), /^Phase main: open until .+$/);
    assert.equal(
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Benchmarks' }).getAttribute('aria-current'),
      'page',
    );
    await reportLcp(page, 'benchmarks');
    await check(page, 'bench-list');
  });

  it('shows the benchmark: its task, phases with the current one marked, metrics, rules and ranking', async () => {
    await page.getByRole('link', { name: title }).click();
    await page.waitForURL(`${server.url}/benchmarks/${name}`);
    await page.getByRole('heading', { level: 1, name: title }).waitFor();
    // The description's Markdown, below the page's headings.
    assert.equal(await page.locator('.markdown h3').textContent(), 'Where will traffic jam?');
    assert.equal(await page.locator('.markdown strong').textContent(), 'road segment and hour');

    const phases = page.getByRole('region', { name: 'Phases' }).getByRole('listitem');
    assert.deepEqual(await phases.locator('h3').allTextContents(), ['warm-up', 'main (current phase)', 'final']);
    assert.deepEqual(
      await phases.evaluateAll((els) => els.map((el) => el.getAttribute('aria-current'))),
      [null, 'step', null],
    );
    assert.match(await phases.nth(0).locator('.muted').textContent(), /^ended on /);
    assert.match(await phases.nth(1).locator('.muted').textContent(), /^open until /);
    assert.match(await phases.nth(2).locator('.muted').textContent(), /^opens on /);

    // The metrics with the definitions the API gives, which ranks and which way is better.
    const rows = page.locator('table.bench-metrics tbody tr');
    const shown = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    assert.deepEqual(
      shown,
      benchmark.metrics.map((m) => [
        m.name, m.definition, m.higher_is_better ? 'Higher is better' : 'Lower is better',
        m.primary ? 'Yes, it ranks' : '',
      ]),
    );
    assert.equal(shown[2][2], 'Lower is better', 'brier: lower is better');
    const rules = page.getByRole('region', { name: 'Rules' });
    assert.deepEqual(await rules.locator('dd').allTextContents(), ['5', '100', '67.1 MB', 'Your best public score on accuracy']);

    // The ranking of the current phase: carol (all right), then dave.
    const board = page.getByRole('region', { name: 'Leaderboard' });
    await board.getByRole('table').waitFor();
    assert.equal(await board.locator('caption').textContent(), 'Phase main, public ranking by accuracy (Higher is better)');
    assert.deepEqual(await board.locator('tbody th').allTextContents(), ['carol', 'dave']);
    assert.equal(await board.getByLabel('Phase').inputValue(), 'main');
    // Anonymous: taking part needs signing in.
    await page.getByText('Sign in to send predictions and follow your submissions.').waitFor();
    await check(page, 'bench-page-anonymous');
  });

  it('tells a participant the first bad line of a malformed file, next to the field, and counts nothing', async () => {
    await signIn(page, bob);
    await page.goto(`${server.url}/benchmarks/${name}`);
    const form = page.locator('form', { has: page.getByRole('heading', { name: 'Send predictions' }) });
    await form.getByText('Counted today (UTC): 0 of 5. Counted on this phase: 0 of 100.').waitFor();
    await page.getByText('You take part on your own.').waitFor();
    assert.equal(await form.getByLabel('Phase').inputValue(), 'main');
    await form.getByLabel('Predictions file').setInputFiles({
      name: 'predictions.csv', mimeType: 'text/csv', buffer: Buffer.from(malformed),
    });
    await form.getByRole('button', { name: 'Send the predictions' }).click();
    const error = form.locator('#bench-file-error');
    await error.waitFor();
    assert.equal(
      await error.textContent(),
      "The file was refused and not counted: line 8: id 'r005' appears twice. Mend it and send it again.",
    );
    assert.equal(await error.getAttribute('role'), 'alert');
    const input = form.getByLabel('Predictions file');
    assert.equal(await input.getAttribute('aria-invalid'), 'true');
    assert.match(await input.getAttribute('aria-describedby'), /bench-file-error/);
    await page.getByText('You have sent nothing yet.').waitFor();
    // Nothing was recorded.
    assert.deepEqual((await apis.bob('GET', `/api/v1/benchmarks/${benchmark.id}/submissions`)).json.items, []);
    await check(page, 'bench-submit-refused');
  });

  it('takes a good file through the form: queued, then scored, with its quota, history and scores', async () => {
    const form = page.locator('form', { has: page.getByRole('heading', { name: 'Send predictions' }) });
    await form.getByLabel('Predictions file').setInputFiles({
      name: 'predictions.csv', mimeType: 'text/csv', buffer: Buffer.from(perfect),
    });
    assert.equal(await form.locator('#bench-file-error').count(), 0, 'a new file clears the last error');
    await form.getByLabel('Description (optional)').fill('gradient boosting');
    await form.getByRole('button', { name: 'Send the predictions' }).click();
    await form.getByRole('status').getByText(
      'Your predictions were taken (200 rows): Queued. They are scored shortly; the state below changes by itself.',
    ).waitFor();

    const mine = page.locator('li.bench-sub', { has: page.getByRole('heading', { name: 'gradient boosting' }) });
    await mine.locator('.bench-state-scored').waitFor();
    assert.equal(await mine.locator('.bench-sub-state').textContent(), 'Scored');
    const [listed] = (await apis.bob('GET', `/api/v1/benchmarks/${benchmark.id}/submissions`)).json.items;
    const sub = (await apis.bob('GET', `/api/v1/submissions/${listed.id}`)).json;
    assert.equal(sub.state, 'scored');
    assert.equal(sub.description, 'gradient boosting');
    assert.equal(sub.sha256, sha256(perfect));
    assert.equal(await mine.locator('.bench-digest').textContent(), `sha256:${sha256(perfect)}`);
    // The public scores as the API gives them; the private ones wait for the phase's end.
    const scores = await mine.locator('table.bench-scores tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    assert.deepEqual(scores.map((r) => r.slice(0, 2)), [
      ['accuracy', String(sub.scores_public.accuracy)],
      ['roc_auc', String(sub.scores_public.roc_auc)],
      ['brier', new Intl.NumberFormat('en-GB', { maximumSignificantDigits: 6 }).format(sub.scores_public.brier)],
    ]);
    assert.equal(sub.scores_public.accuracy, 1);
    for (const r of scores) assert.match(r[2], /^shown when the phase ends \(.+\)$/);
    // Its history, each state the API recorded.
    await mine.getByText('State history', { exact: true }).click();
    await mine.locator('.bench-history li').first().waitFor();
    assert.deepEqual(
      await mine.locator('.bench-history li .bench-state').allTextContents(),
      sub.events.map((e) => ({ queued: 'Queued', scoring: 'Scoring', scored: 'Scored' })[e.state]),
    );
    assert.deepEqual(sub.events.map((e) => e.state).filter((s) => s !== 'scoring'), ['queued', 'scored']);
    await form.getByText('Counted today (UTC): 1 of 5. Counted on this phase: 1 of 100.').waitFor();
    await check(page, 'bench-submission-scored');
  });

  it('ranks the entrants, equal scores sharing a rank, by another metric, and page by page', async () => {
    const board = page.getByRole('region', { name: 'Leaderboard' });
    // bob's scored submission made the page read the ranking again.
    await board.locator('tbody tr').nth(2).waitFor();
    const api = (await apis.bob('GET', `/api/v1/benchmarks/${benchmark.id}/leaderboard?phase=main`)).json;
    assert.deepEqual(api.items.map((r) => r.rank), [1, 1, 3]);
    const ranks = await board.locator('tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [tr.children[0].textContent, tr.children[1].textContent]));
    assert.deepEqual(ranks, api.items.map((r) => [r.rank === 3 ? '3' : `${r.rank} (tie)`, r.name]));
    assert.deepEqual(ranks.map((r) => r[1]).sort(), ['bob', 'carol', 'dave']);
    assert.equal(await board.getByRole('status').textContent(), 'Entrants 1 to 3 of 3');

    // The CSV of the same ranking.
    const csv = board.getByRole('link', { name: 'Download the ranking (CSV)' });
    const href = await csv.getAttribute('href');
    assert.equal(href, `/api/v1/benchmarks/${benchmark.id}/leaderboard?phase=main&split=public&metric=accuracy&format=csv`);
    const text = await (await page.request.get(server.url + href)).text();
    assert.equal(text.split('\n')[0], 'rank,entrant,name,team_id,user_id,submission_id,score,accuracy,roc_auc,brier,submitted_at');
    assert.equal(text.trim().split('\n').length, 4);

    // Ranked by the Brier score (lower is better), kept in the address across a reload.
    await board.getByLabel('Ranked by').selectOption('brier');
    await board.getByRole('button', { name: 'Show the ranking' }).click();
    await page.waitForURL(`${server.url}/benchmarks/${name}?phase=main&split=public&metric=brier`);
    await board.locator('caption').getByText('Phase main, public ranking by brier (Lower is better)').waitFor();
    await page.reload();
    await board.locator('caption').getByText('Phase main, public ranking by brier (Lower is better)').waitFor();
    assert.equal(await board.getByLabel('Ranked by').inputValue(), 'brier');
    const byBrier = (await apis.bob('GET', `/api/v1/benchmarks/${benchmark.id}/leaderboard?phase=main&metric=brier`)).json;
    assert.deepEqual(await board.locator('tbody th').allTextContents(), byBrier.items.map((r) => r.name));
    assert.equal(await board.locator('tbody th').last().textContent(), 'dave');

    // A page from its offset: the third entrant alone, and a way back.
    await page.goto(`${server.url}/benchmarks/${name}?phase=main&split=public&metric=accuracy&offset=2`);
    await board.getByRole('status').getByText('Entrants 3 to 3 of 3').waitFor();
    assert.deepEqual(await board.locator('tbody th').allTextContents(), ['dave']);
    await board.getByRole('navigation', { name: 'Pages of the ranking' }).getByRole('link', { name: 'Previous entrants' }).click();
    await page.waitForURL(`${server.url}/benchmarks/${name}?phase=main&split=public&metric=accuracy`);
    await board.getByRole('status').getByText('Entrants 1 to 3 of 3').waitFor();
    await check(page, 'bench-leaderboard');
  });

  it('keeps the private ranking closed to a participant until the phase ends, and says when', async () => {
    const board = page.getByRole('region', { name: 'Leaderboard' });
    const priv = board.getByRole('radio', { name: 'Private' });
    await board.getByText(/^The private ranking opens when the phase ends, on .+\. Until then it is shown to the organisers only/).waitFor();
    assert.equal(await priv.isDisabled(), true);
    assert.equal(await priv.getAttribute('aria-describedby'), 'board-private-why');
    // The server agrees, and says so in words when the address asks for it.
    await assert.rejects(apis.bob('GET', `/api/v1/benchmarks/${benchmark.id}/leaderboard?phase=main&split=private`), /403/);
    await page.goto(`${server.url}/benchmarks/${name}?phase=main&split=private`);
    const alert = board.getByRole('alert');
    await alert.getByText('The private ranking is not shown yet: it opens when the phase ends.').waitFor();
    assert.match(await alert.textContent(), /The server said: the private ranking of phase main is shown when the phase ends/);
    await check(page, 'bench-private-closed');

    // The warm-up has ended: its private ranking is anyone's.
    await board.getByLabel('Phase').selectOption('warm-up');
    await board.getByRole('radio', { name: 'Private' }).check();
    await board.getByRole('button', { name: 'Show the ranking' }).click();
    await page.waitForURL(`${server.url}/benchmarks/${name}?phase=warm-up&split=private&metric=accuracy`);
    await board.getByText('Nobody is ranked on this phase yet.').waitFor();
    // The organiser reads the open phase's private ranking at any time.
    assert.equal((await apis.alice('GET', `/api/v1/benchmarks/${benchmark.id}/leaderboard?phase=main&split=private`)).json.total, 3);
  });

  it('tells in words why a submission that has ended cannot be cancelled', async () => {
    // Forced: the page is told bob's scored submission still waits, so it offers to cancel it.
    await page.route(`**/api/v1/benchmarks/${benchmark.id}/submissions**`, async (route) => {
      if (route.request().method() !== 'GET') return route.continue();
      const res = await route.fetch();
      const body = await res.json();
      for (const s of body.items) s.state = 'queued';
      await route.fulfill({ response: res, json: body });
    });
    await page.goto(`${server.url}/benchmarks/${name}`);
    const mine = page.locator('li.bench-sub', { has: page.getByRole('heading', { name: 'gradient boosting' }) });
    await mine.getByRole('button', { name: 'Cancel the submission gradient boosting' }).click();
    const alert = mine.getByRole('alert');
    await alert.getByText("This cannot be done in the submission's present state.").waitFor();
    assert.match(await alert.textContent(), /only a waiting one is cancelled/);
    await page.unroute(`**/api/v1/benchmarks/${benchmark.id}/submissions**`);
    const [sub] = (await apis.bob('GET', `/api/v1/benchmarks/${benchmark.id}/submissions`)).json.items;
    assert.equal(sub.state, 'scored');
  });

  it('refuses a file over the day\'s quota, in words, with what the server counted', async () => {
    await apis.alice('PATCH', `/api/v1/benchmarks/${benchmark.id}`, { rules: { max_per_day: 1 } });
    try {
      await page.goto(`${server.url}/benchmarks/${name}`);
      const form = page.locator('form', { has: page.getByRole('heading', { name: 'Send predictions' }) });
      await form.getByText('Counted today (UTC): 1 of 1. Counted on this phase: 1 of 100.').waitFor();
      await form.getByLabel('Predictions file').setInputFiles({
        name: 'again.csv', mimeType: 'text/csv', buffer: Buffer.from(rough),
      });
      await form.getByRole('button', { name: 'Send the predictions' }).click();
      const alert = form.getByRole('alert');
      await alert.getByText('Your quota is used up: this file was not taken.').waitFor();
      assert.match(await alert.textContent(), /The server said: 1 submissions counted today on phase main \(at most 1 a day\)/);
      assert.equal((await apis.bob('GET', `/api/v1/benchmarks/${benchmark.id}/submissions`)).json.items.length, 1);
      await check(page, 'bench-submit-quota');
    } finally {
      await apis.alice('PATCH', `/api/v1/benchmarks/${benchmark.id}`, { rules: { max_per_day: 5 } });
    }
  });

  it('issues a signed report that an anonymous visitor reads, downloads and verifies offline', async () => {
    await page.goto(`${server.url}/benchmarks/${name}`);
    const mine = page.locator('li.bench-sub', { has: page.getByRole('heading', { name: 'gradient boosting' }) });
    await mine.getByRole('button', { name: 'Issue a signed report of gradient boosting' }).click();
    const open = mine.getByRole('link', { name: 'Open the report' });
    await open.waitFor();
    reportUrl = await open.getAttribute('href');
    assert.match(reportUrl, /^\/reports\/rpt_/);

    const visitor = await newContext(browser);
    const p = await visitor.newPage();
    await p.goto(server.url + reportUrl);
    await p.getByRole('heading', { level: 1, name: 'Validation report' }).waitFor();
    assert.equal(await p.getByRole('button', { name: 'Sign out' }).count(), 0, 'nobody is signed in');
    const report = (await client(server.url)('GET', `/api/v1${reportUrl}`)).json;
    const key = (await client(server.url)('GET', '/.well-known/openlab-report-key.json')).json;
    const predicate = report.statement.predicate;
    // A list of facts (<dl class="facts">) as {term: value}.
    const facts = async (dl) =>
      Object.fromEntries(await dl.evaluate((el) => [...el.querySelectorAll(':scope > div')].map((d) =>
        [d.querySelector('dt').textContent, d.querySelector('dd').textContent])));
    const top = await facts(p.locator('article > dl.facts'));
    assert.equal(top.Benchmark, `${title} (${benchmark.id})`);
    assert.equal(top.Phase, `main (${benchmark.phases[1].id})`);
    assert.equal(top['Signed with'], `openlab ${predicate.openlabVersion}`);
    const subject = await facts(p.getByRole('region', { name: 'What was scored' }).locator('dl.facts'));
    assert.equal(subject['Digest of the file'], `sha256:${sha256(perfect)}`);
    assert.match(subject.Submission, /^submission\/sub_/);
    const results = await p.locator('table.bench-report-metrics tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    assert.deepEqual(results.map((r) => [r[0], r[2], r[3]]), [
      ['accuracy', 'Public rows', 'Higher is better'],
      ['roc_auc', 'Public rows', 'Higher is better'],
      ['brier', 'Public rows', 'Lower is better'],
    ]);
    assert.deepEqual(results.map((r) => r[4]), benchmark.metrics.map((m) => m.definition));
    const datasets = await p.getByRole('region', { name: 'Dataset versions' }).getByRole('listitem').allTextContents();
    const roles = { participant_inputs: 'What participants were given', ground_truth: 'Ground truth scored against' };
    assert.deepEqual(datasets, predicate.datasets.map((d) => `${roles[d.role]}: ${d.name}, version sha256:${d.digest.sha256}`));
    assert.ok(predicate.datasets.some((d) => d.role === 'ground_truth'));
    const verify = await facts(p.getByRole('region', { name: 'Check it yourself' }).locator('dl.facts'));
    assert.equal(verify['Signed with the key'], key.keyid);
    assert.equal(verify['Digest of the report file'], `sha256:${report.sha256}`);
    const file = `${report.id}.json`;
    assert.equal(await p.locator('pre code').textContent(), `openlab report verify ${file} --key openlab-report-key.json`);
    await reportLcp(p, 'report');
    await check(p, 'bench-report');

    // The two downloads, as the visitor's browser saves them, and the command the page gives.
    const dir = await mkdtemp(join(tmpdir(), 'openlab-console-report-'));
    try {
      for (const [link, saved] of [['Download the signed report', file], ["Download the centre's public key", 'openlab-report-key.json']]) {
        const download = p.waitForEvent('download');
        await p.getByRole('link', { name: link }).click();
        const d = await download;
        assert.equal(d.suggestedFilename(), saved);
        await d.saveAs(join(dir, saved));
      }
      assert.equal(sha256(await readFile(join(dir, file))), report.sha256);
      const { stdout } = await run(paths.bin, ['report', 'verify', file, '--key', 'openlab-report-key.json'], {
        cwd: dir, env: { ...process.env, HOME: dir, OPENLAB_URL: '', OPENLAB_TOKEN: '' },
      });
      assert.match(stdout, new RegExp(`^verified: signed by ${key.keyid} \\(key from openlab-report-key.json, offline\\)`));
      assert.match(stdout, new RegExp(`submission +submission/${report.submission_id} +sha256:${sha256(perfect)}`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    // A report that does not exist is told in words.
    await p.goto(`${server.url}/reports/rpt_nothing_here`);
    await p.getByRole('alert').getByText('There is no report at this address. Check that it was copied whole.').waitFor();
    await check(p, 'bench-report-not-found');
    await visitor.close();
  });

  it('lists a scored submission\'s reports, issues another from the list and opens it', async () => {
    await page.goto(`${server.url}/benchmarks/${name}`);
    const mine = page.locator('li.bench-sub', { has: page.getByRole('heading', { name: 'gradient boosting' }) });
    const reports = mine.getByRole('region', { name: 'Signed reports' });
    const links = reports.getByRole('link', { name: /^Report issued / });
    // The one issued above, as the API lists it to its owner.
    await links.first().waitFor();
    const [sub] = (await apis.bob('GET', `/api/v1/benchmarks/${benchmark.id}/submissions`)).json.items;
    const before = (await apis.bob('GET', `/api/v1/submissions/${sub.id}/reports`)).json.items;
    assert.deepEqual(before.map((r) => `/reports/${r.id}`), [reportUrl]);
    assert.deepEqual(await links.evaluateAll((as) => as.map((a) => a.getAttribute('href'))), [reportUrl]);
    // Another participant's reports are not listed to them.
    await assert.rejects(apis.carol('GET', `/api/v1/submissions/${sub.id}/reports`), /404/);

    await mine.getByRole('button', { name: 'Issue a signed report of gradient boosting' }).click();
    await links.nth(1).waitFor();
    const after = (await apis.bob('GET', `/api/v1/submissions/${sub.id}/reports`)).json.items;
    assert.equal(after.length, 2);
    const added = after.find((r) => `/reports/${r.id}` !== reportUrl);
    // Oldest first: the new one last.
    assert.deepEqual(await links.evaluateAll((as) => as.map((a) => a.getAttribute('href'))), [reportUrl, `/reports/${added.id}`]);
    await check(page, 'bench-reports-listed');
    await links.nth(1).click();
    await page.waitForURL(`${server.url}/reports/${added.id}`);
    await page.getByRole('heading', { level: 1, name: 'Validation report' }).waitFor();
    const shown = await page.locator('article > dl.facts').evaluate((el) =>
      Object.fromEntries([...el.querySelectorAll(':scope > div')].map((d) => [d.querySelector('dt').textContent, d.querySelector('dd').textContent])));
    assert.equal(shown.Benchmark, `${title} (${benchmark.id})`);
    assert.equal(added.submission_id, sub.id);
  });

  it('offers the code form where the benchmark takes code, and takes a folder of code through it', async () => {
    await page.goto(`${server.url}/benchmarks/${name}`);
    await page.getByRole('heading', { name: 'Send predictions' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Send code' }).count(), 0, 'this benchmark takes no code yet');
    // The organiser takes code from now on; its runs are charged to her project's CPU hours.
    const op = client(server.url, { token: server.token });
    await op('POST', `/api/v1/projects/${benchmark.project_id}/allocations`, {
      resource: 'cpu', hours: 10, expires_at: iso(Date.now() + 30 * 86400_000),
    });
    await apis.alice('PATCH', `/api/v1/benchmarks/${benchmark.id}`, { rules: { code: true, max_runtime_s: 120 } });
    await page.reload();
    const form = page.locator('form', { has: page.getByRole('heading', { name: 'Send code' }) });
    await form.waitFor();
    await form.getByText('for at most 120 seconds').waitFor();

    // Nothing chosen and no command: told next to each field, nothing sent.
    await form.getByRole('button', { name: 'Send the code' }).click();
    assert.equal(await form.locator('#bench-code-files-error').textContent(), 'Choose the folder of your code, or its files.');
    assert.equal(
      await form.locator('#bench-code-entry-error').textContent(),
      'Name the command that runs your code, for example python3 predict.py.',
    );
    assert.equal(await form.getByLabel('Command that runs it').getAttribute('aria-invalid'), 'true');
    await check(page, 'bench-code-missing');

    // A folder: predict.sh copies the answers it carries to where the run's predictions go.
    const dir = await mkdtemp(join(tmpdir(), 'openlab-console-code-'));
    const files = {
      'predict.sh': 'cp answers/predictions.csv "$OPENLAB_OUTPUT/predictions.csv"\necho copied\n',
      'answers/predictions.csv': perfect,
    };
    try {
      await mkdir(join(dir, 'model', 'answers'), { recursive: true });
      for (const [path, bytes] of Object.entries(files)) await writeFile(join(dir, 'model', path), bytes);
      // Too large for the rules: told before anything is sent.
      const maxBytes = benchmark.rules.max_bytes;
      await apis.alice('PATCH', `/api/v1/benchmarks/${benchmark.id}`, { rules: { max_bytes: 1000 } });
      try {
        await page.reload();
        await form.getByLabel('A folder').setInputFiles(join(dir, 'model'));
        assert.match(
          await form.locator('#bench-code-files-error').textContent(),
          /^Your code is \d\.\d KB once encoded for sending; this benchmark takes at most 1 KB\. /,
        );
        await form.getByLabel('Command that runs it').fill('sh predict.sh');
        await form.getByRole('button', { name: 'Send the code' }).click();
        assert.equal((await apis.bob('GET', `/api/v1/benchmarks/${benchmark.id}/submissions`)).json.items.length, 1);
      } finally {
        await apis.alice('PATCH', `/api/v1/benchmarks/${benchmark.id}`, { rules: { max_bytes: maxBytes } });
      }

      // What the server refuses is told in its words: a file name with a backslash.
      await page.reload();
      await form.getByLabel('Or some files').setInputFiles({
        name: 'bad\\name.sh', mimeType: 'text/plain', buffer: Buffer.from('true\n'),
      });
      await form.getByLabel('Command that runs it').fill('sh predict.sh');
      await form.getByRole('button', { name: 'Send the code' }).click();
      const refused = form.locator('#bench-code-files-error');
      await refused.waitFor();
      assert.match(await refused.textContent(), /^The code was refused and not counted: .*backslash.*\. Mend it and send it again\.$/);

      // The folder, its command and a description: taken, listed, run and scored.
      await form.getByLabel('A folder').setInputFiles(join(dir, 'model'));
      await form.getByText('2 files chosen').waitFor();
      assert.match(await form.locator('#bench-code-chosen').textContent(), /: answers\/predictions\.csv, predict\.sh$/);
      await form.getByLabel('Description (optional)').fill('code that copies the answers');
      await form.getByRole('button', { name: 'Send the code' }).click();
      await form.getByRole('status').getByText(/^Your code was taken \(2 files\): Queued\./).waitFor();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const mine = page.locator('li.bench-sub', { has: page.getByRole('heading', { name: 'code that copies the answers' }) });
    await mine.waitFor();
    assert.match(await mine.locator('.bench-sub-facts').textContent(), /2 files of code/);
    const listed = (await apis.bob('GET', `/api/v1/benchmarks/${benchmark.id}/submissions`)).json.items;
    const code = listed.find((s) => s.kind === 'code');
    assert.equal(code.description, 'code that copies the answers');
    assert.equal(code.rows, 2);
    // The digest the API names code by (validation/code_tree.h): its listing, then its command.
    const listing = Object.keys(files).sort().map((p) => `${sha256(files[p])}  ${p}\n`).join('');
    assert.equal(code.sha256, sha256(listing + 'entry  sh predict.sh\n'));
    assert.equal(await mine.locator('.bench-digest').textContent(), `sha256:${code.sha256}`);
    await mine.locator('.bench-state-scored').waitFor({ timeout: 60000 });
    assert.equal((await apis.bob('GET', `/api/v1/submissions/${code.id}`)).json.scores_public.accuracy, 1);
    await mine.getByRole('region', { name: 'Signed reports' }).getByText('No report of it has been issued yet.').waitFor();
    await check(page, 'bench-code-scored');
  });

  it('takes code without a command where the phase\'s ingestion program runs it', async () => {
    // The organiser's ingestion program (Codabench's layout): it copies the answers the code
    // carries to where the run's predictions go.
    const program = (await apis.alice('POST', '/api/v1/datasets', {
      project_id: benchmark.project_id, name: 'traffic-ingestion', title: 'Traffic jams: the ingestion program',
      description: 'Runs the participants\' code.', license: 'proprietary', access_level: 'project',
    })).json;
    const token = (await apis.alice('POST', '/api/v1/tokens', {
      name: 'ingestion', scopes: ['data:read', 'data:write'], expires_in_days: 1,
    })).json.secret;
    const dir = await mkdtemp(join(tmpdir(), 'openlab-console-ingestion-'));
    try {
      await mkdir(join(dir, 'program'));
      await writeFile(join(dir, 'program', 'metadata'), 'command: sh $program/ingest.sh $submission_program $output\n');
      await writeFile(join(dir, 'program', 'ingest.sh'), 'cp "$1/answers/predictions.csv" "$2/predictions.csv"\n');
      await run(paths.bin, ['data', 'push', join(dir, 'program'), program.id, '--tag', 'v1'], {
        env: { ...process.env, OPENLAB_URL: server.url, OPENLAB_TOKEN: token, HOME: dir },
      });
      const current = (await apis.alice('GET', `/api/v1/benchmarks/${benchmark.id}`)).json;
      const edited = (await apis.alice('PATCH', `/api/v1/benchmarks/${benchmark.id}`, {
        phases: current.phases.map((p) => ({
          name: p.name, starts_at: p.starts_at, ends_at: p.ends_at, truth_dataset: p.truth_dataset_id,
          truth_file: p.truth_file, ...(p.name === 'main' ? { ingestion_program_dataset: program.id } : {}),
        })),
      })).json;
      // The main phase's programs changed (its truth did not: only the main phase is named).
      const main = edited.phases.find((p) => p.name === 'main');
      assert.deepEqual(edited.truth_changed, [main.id]);
      assert.equal(main.ingestion_program_dataset_id, program.id);

      await page.goto(`${server.url}/benchmarks/${name}`);
      const form = page.locator('form', { has: page.getByRole('heading', { name: 'Send code' }) });
      const entry = form.getByLabel('Command that runs it (optional)');
      await entry.waitFor();
      await form.getByText("This phase's own ingestion program runs your code").waitFor();
      await mkdir(join(dir, 'model', 'answers'), { recursive: true });
      await writeFile(join(dir, 'model', 'answers', 'predictions.csv'), perfect);
      await form.getByLabel('Or some files').setInputFiles(join(dir, 'model', 'answers', 'predictions.csv'));
      await form.getByText('1 files chosen').waitFor();
      await form.getByRole('button', { name: 'Send the code' }).click();
      // A file picked alone is sent under its name: the program finds no answers/ folder.
      const failed = page.locator('li.bench-sub').first();
      await failed.locator('.bench-state-failed').waitFor({ timeout: 60000 });
      // The folder, with no command: the ingestion program runs it and it is scored.
      await form.getByLabel('A folder').setInputFiles(join(dir, 'model'));
      await form.getByLabel('Description (optional)').fill('answers through the ingestion program');
      await form.getByRole('button', { name: 'Send the code' }).click();
      await form.getByRole('status').getByText(/^Your code was taken \(1 files\): Queued\./).waitFor();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const mine = page.locator('li.bench-sub', { has: page.getByRole('heading', { name: 'answers through the ingestion program' }) });
    await mine.locator('.bench-state-scored').waitFor({ timeout: 60000 });
    const listed = (await apis.bob('GET', `/api/v1/benchmarks/${benchmark.id}/submissions`)).json.items;
    const sub = listed.find((x) => x.description === 'answers through the ingestion program');
    assert.equal(sub.scores_public.accuracy, 1);
    assert.equal(sub.sha256, sha256(`${sha256(perfect)}  answers/predictions.csv\nentry  \n`));
    await check(page, 'bench-code-ingestion');
  });

  it('speaks Korean on the benchmark and report pages', async () => {
    await page.goto(`${server.url}/benchmarks/${name}`);
    await page.getByLabel('Language').selectOption('ko');
    await page.getByRole('heading', { name: '리더보드' }).waitFor();
    await page.getByRole('heading', { name: '예측 보내기' }).waitFor();
    await page.getByRole('radio', { name: '비공개' }).waitFor();
    await check(page, 'bench-page-ko');
    await page.goto(server.url + reportUrl);
    await page.getByRole('heading', { level: 1, name: '검증 보고서' }).waitFor();
    await check(page, 'bench-report-ko');
    await page.getByLabel('언어').selectOption('en');
  });
});
