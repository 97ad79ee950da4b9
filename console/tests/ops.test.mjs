// The stewards' and operators' pages in Chromium against a real `openlab serve`: a steward
// approves an access request from the review queue, and decides one opened by its address; an
// operator finds a user's job in the audit trail, watches the queue, reads utilisation, usage and
// hoarding, onboards an organisation and starts a project; lists page with "show more"; a person
// who is not an operator is refused /ops in words. Every page passes axe-core with no serious or
// critical violation and is photographed under $OPENLAB_ARTIFACTS.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  alice,
  axeViolations,
  client,
  launchBrowser,
  newContext,
  reportLcp,
  screenshot,
  seed,
  startServer,
} from './harness.mjs';

const bob = { username: 'bob', password: 'a long passphrase for bob' };
const olga = { username: 'olga', password: 'a long passphrase for olga' };

// A person's API session, as the console has it: the cookie and its CSRF token.
async function session(server, who) {
  const login = await client(server.url)('POST', '/api/v1/login', who);
  return client(server.url, { cookie: login.headers.get('set-cookie').split(';')[0], csrf: login.json.csrf_token });
}

describe('the stewards\' and operators\' pages', () => {
  let server;
  let browser;
  let world;
  let op;
  const pages = {};

  async function check(page, name) {
    await screenshot(page, name);
    assert.deepEqual(await axeViolations(page), [], `axe on ${name}`);
  }

  async function signIn(who) {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(server.url + '/signin');
    await page.getByLabel('Username').fill(who.username);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText(/^Signed in as /).waitFor();
    return page;
  }

  before(async () => {
    server = await startServer();
    world = await seed(server);
    op = client(server.url, { token: server.token });

    // Another organisation with bob, the PI of its project, which has CPU-hours to run a job.
    const jnu = (await op('POST', '/api/v1/orgs', {
      name: 'jnu', kind: 'university', region: 'KR-29', display_name: 'Chonnam National University',
    })).json;
    await op('POST', '/api/v1/users', {
      username: bob.username, email: 'bob@jnu.example', display_name: 'Bob Lee', password: bob.password,
    });
    await op('PUT', `/api/v1/orgs/${jnu.id}/members/bob`, { role: 'member' });
    world.bobProject = (await op('POST', '/api/v1/projects', {
      org_id: jnu.id, name: 'bus-lab', pi: 'bob', title: 'Bus arrival prediction',
    })).json;
    await op('POST', `/api/v1/projects/${world.bobProject.id}/allocations`, {
      resource: 'cpu', hours: 100, expires_at: new Date(Date.now() + 30 * 86400_000).toISOString(),
    });
    // olga runs the centre.
    await op('POST', '/api/v1/users', {
      username: olga.username, email: 'olga@centre.example', display_name: 'Olga Park', password: olga.password,
      platform_roles: ['operator'],
    });

    // alice's project lists two project-level datasets; bob asks for access to both.
    const as = await session(server, alice);
    const dataset = async (name, title) => (await as('POST', '/api/v1/datasets', {
      project_id: world.project.id, name, title, description: 'Counts per stop and hour.', license: 'CC-BY-4.0',
      access_level: 'project', listed: true, tags: ['mobility'],
    })).json;
    world.stops = await dataset('bus-stops', 'Bus stop boardings');
    world.timings = await dataset('signal-timings', 'Signal timings');
    const asBob = await session(server, bob);
    world.request = (await asBob('POST', `/api/v1/datasets/${world.stops.id}/access-requests`, {
      purpose: 'Predicting bus arrivals at each stop for the city.', days: 30,
    })).json;
    world.request2 = (await asBob('POST', `/api/v1/datasets/${world.timings.id}/access-requests`, {
      purpose: 'Aligning arrivals with the signal plan.', days: 30,
    })).json;
    // bob submits a job through the API.
    world.job = (await asBob('POST', '/api/v1/jobs', {
      project_id: world.bobProject.id, name: 'train-arrivals', command: ['sleep', '300'], cpus: 1, time_limit_s: 600,
    })).json;

    browser = await launchBrowser();
    pages.alice = await signIn(alice);
    pages.bob = await signIn(bob);
    pages.olga = await signIn(olga);
  });

  after(async () => {
    await browser?.close();
    if (server) {
      if (process.exitCode) console.error(server.log());
      await server.stop();
    }
  });

  it('refuses /ops in words to a person who is neither operator nor auditor, and shows no data', async () => {
    const page = pages.bob;
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Review' }).waitFor();
    assert.equal(await nav.getByRole('link', { name: 'Operations' }).count(), 0);
    await page.goto(server.url + '/ops');
    const alert = page.getByRole('alert');
    await alert.getByText('These pages are for the centre\'s operators and auditors.').waitFor();
    assert.equal(await page.locator('table').count(), 0);
    assert.equal(await page.getByText('train-arrivals').count(), 0);
    await check(page, 'ops-refused');
    // The API refuses the same person too: the page is not the only guard.
    await page.goto(server.url + '/ops/audit');
    await alert.getByText('These pages are for the centre\'s operators and auditors.').waitFor();
    const status = await page.evaluate(() => fetch('/api/v1/audit').then((r) => r.status));
    assert.equal(status, 403);
  });

  it('a steward approves an access request from the review queue', async () => {
    const page = pages.alice;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Review' }).click();
    await page.waitForURL(server.url + '/review');
    await page.getByRole('heading', { level: 1, name: 'Review queue' }).waitFor();
    const item = page.getByRole('article', { name: 'Access to Bus stop boardings' });
    await item.getByText('Predicting bus arrivals at each stop for the city.').waitFor();
    await item.getByText('30 days').waitFor();
    await check(page, 'review-queue');
    await item.getByLabel(/Your reason/).fill('A city project; the data stays on the centre.');
    await item.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('status').getByText(/^Approved: the access of .+ to Bus stop boardings\.$/).waitFor();
    assert.equal(await item.count(), 0);
    // The requester's request now reads approved through the API.
    const asBob = await session(server, bob);
    const r = (await asBob('GET', `/api/v1/access-requests/${world.request.id}`)).json;
    assert.equal(r.state, 'approved');
    assert.ok(r.expires_at, 'an approval sets when the access ends');
    await check(page, 'review-approved');
  });

  it('a steward refuses a request opened by its address, after being asked for a reason', async () => {
    const page = pages.alice;
    await page.goto(`${server.url}/review?access_request=${world.request2.id}`);
    const linked = page.locator('section', { has: page.getByRole('heading', { name: 'The request you opened' }) });
    const item = linked.getByRole('article', { name: 'Access to Signal timings' });
    await item.getByText('Aligning arrivals with the signal plan.').waitFor();
    await item.getByRole('button', { name: 'Refuse' }).click();
    await item.getByText('Give a reason for this decision.').waitFor();
    await check(page, 'review-linked');
    await item.getByLabel(/Your reason/).fill('The timings are not cleared for outside use yet.');
    await item.getByRole('button', { name: 'Refuse' }).click();
    await page.getByRole('status').getByText(/^Refused: the access of .+ to Signal timings\.$/).waitFor();
    const r = (await op('GET', `/api/v1/access-requests/${world.request2.id}`)).json;
    assert.deepEqual([r.state, r.reason], ['refused', 'The timings are not cleared for outside use yet.']);
  });

  it('a steward clears a file flagged as personal data, with a reason, and it is served again', async () => {
    const as = await session(server, alice);
    const flag = (await as('POST', `/api/v1/datasets/${world.open.id}/flags`, {
      path: 'stations/list.csv', reason: 'The station list may name the homes of volunteers.',
    })).json;
    const page = pages.alice;
    await page.goto(server.url + '/review');
    const item = page.getByRole('article', { name: /^stations\/list\.csv in Air quality in Gwangju/ });
    await item.getByText('The station list may name the homes of volunteers.').waitFor();
    await check(page, 'review-flag');
    await item.getByRole('button', { name: 'Clear: serve it again' }).click();
    await item.getByText('Give a reason for this decision.').waitFor();
    await item.getByLabel(/Your reason/).fill('The stations are public sites, not homes.');
    await item.getByRole('button', { name: 'Clear: serve it again' }).click();
    await page.getByRole('status').getByText('Cleared: stations/list.csv in Air quality in Gwangju is served again.').waitFor();
    assert.equal(await item.count(), 0);
    const flags = (await as('GET', `/api/v1/datasets/${world.open.id}/flags`)).json.items;
    const decided = flags.find((f) => f.id === flag.id);
    assert.deepEqual([decided.state, decided.decision], ['cleared', 'The stations are public sites, not homes.']);
  });

  it('says so when nothing waits for a person\'s review', async () => {
    const page = pages.bob;
    await page.goto(server.url + '/review');
    await page.getByText('Nothing waits for your review.').waitFor();
    await page.getByText('No access request waits.').waitFor();
    await check(page, 'review-empty');
  });

  it('shows the operator the queue and the running jobs, with project, user and reason', async () => {
    const page = pages.olga;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Operations' }).click();
    await page.waitForURL(server.url + '/ops');
    await page.getByRole('heading', { level: 1, name: 'Queue and running jobs' }).waitFor();
    const row = page.getByRole('row', { name: new RegExp(world.job.id) });
    await row.waitFor();
    await row.getByText('train-arrivals').waitFor();
    await row.getByText('bus-lab').waitFor();
    await row.getByText('bob').waitFor();
    await check(page, 'ops-jobs');
    // Printed, not asserted: the queue's page loaded afresh, once its first row has arrived.
    await page.goto(server.url + '/ops');
    await page.getByRole('row', { name: new RegExp(world.job.id) }).waitFor();
    await reportLcp(page, 'ops-queue');
  });

  it('an operator finds a user\'s job in the audit trail, and exports what the filters select', async () => {
    const page = pages.olga;
    await page.getByRole('navigation', { name: 'Operations' }).getByRole('link', { name: 'Audit trail' }).click();
    await page.waitForURL(server.url + '/ops/audit');
    await page.getByRole('row').nth(1).waitFor();
    await page.getByLabel('Actor').fill('bob');
    await page.getByLabel('Action').fill('jobs.submit');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(`${server.url}/ops/audit?actor=bob&action=jobs.submit`);
    const entry = page.getByRole('row', { name: new RegExp(world.job.id) });
    await entry.getByRole('cell', { name: 'jobs.submit' }).waitFor();
    await entry.getByRole('cell', { name: world.job.id }).waitFor();
    await page.getByText('Shown: 1').waitFor();
    await check(page, 'ops-audit');

    const href = await page.getByRole('link', { name: 'Export as JSON lines' }).getAttribute('href');
    const url = new URL(href, server.url);
    assert.equal(url.searchParams.get('format'), 'jsonl');
    assert.equal(url.searchParams.get('action'), 'jobs.submit');
    const lines = (await page.evaluate((u) => fetch(u).then((r) => r.text()), url.toString())).trim().split('\n');
    assert.equal(lines.length, 1);
    assert.equal(JSON.parse(lines[0]).object, world.job.id);

    // A filter that matches nothing says so.
    await page.getByLabel('Action').fill('datasets.create');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No entry matches these filters.').waitFor();
  });

  it('draws utilisation for the last 24 hours or 14 days, with the figures as a table', async () => {
    const page = pages.olga;
    await page.goto(server.url + '/ops/utilisation');
    await page.getByRole('img', { name: /Chart of utilisation per period for cpu/ }).waitFor();
    await page.locator('.chart canvas').waitFor();
    await page.locator('summary', { hasText: 'The figures as a table' }).click();
    const table = page.getByRole('table', { name: 'The figures as a table' });
    assert.equal(await table.locator('tbody tr').count(), 24);
    await check(page, 'ops-utilisation');
    await page.getByLabel('Last 14 days, by day').check();
    await page.locator('.chart canvas').waitFor();
    await page.locator('summary', { hasText: 'The figures as a table' }).click();
    await page.waitForFunction(() => document.querySelectorAll('table.data tbody tr').length === 14);
  });

  it('reads usage by organisation and by project, sorted by any column', async () => {
    const page = pages.olga;
    await page.goto(server.url + '/ops/usage');
    await page.getByRole('heading', { name: 'By organisation' }).waitFor();
    await page.getByText(/Nothing was charged in this period\.|GPU-hours/).first().waitFor();
    await page.getByLabel('Group by').selectOption('project');
    await page.getByRole('heading', { name: 'By project' }).waitFor();
    await check(page, 'ops-usage');
  });

  it('lists hoarding, organisations and users; onboards an organisation and starts a project', async () => {
    const page = pages.olga;
    await page.goto(server.url + '/ops/hoarding');
    await page.getByText(/No allocation is behind its pace\.|Pace/).first().waitFor();
    await check(page, 'ops-hoarding');

    await page.goto(server.url + '/ops/orgs');
    await page.getByRole('row', { name: /Chonnam National University/ }).waitFor();
    await page.getByLabel('Short name').fill('gwangju-city');
    await page.getByLabel('Display name').fill('Gwangju Metropolitan City');
    await page.getByLabel('Kind').selectOption('public_agency');
    await page.getByLabel('Home region').fill('KR-29');
    await page.getByRole('button', { name: 'Create the organisation' }).click();
    await page.getByRole('status').getByText(/^The organisation Gwangju Metropolitan City was created/).waitFor();
    await page.getByRole('row', { name: /Gwangju Metropolitan City/ }).waitFor();
    await check(page, 'ops-orgs');
    const orgs = (await op('GET', '/api/v1/orgs?limit=100')).json.items;
    const city = orgs.find((o) => o.name === 'gwangju-city');
    assert.equal(city.kind, 'public_agency');

    await page.goto(server.url + '/ops/projects');
    await page.getByRole('row', { name: /Traffic signal AI/ }).waitFor();
    await page.getByLabel('Organisation', { exact: true }).fill(city.id);
    await page.getByLabel('Short name').fill('smart-crossings');
    await page.getByLabel('Title').fill('Smart crossings');
    await page.getByRole('button', { name: 'Create the project' }).click();
    await page.getByRole('status').getByText(/^The project Smart crossings was created/).waitFor();
    await page.getByRole('row', { name: /Smart crossings/ }).waitFor();
    await check(page, 'ops-projects');
    // A refusal from the API is told in words: the same short name again.
    await page.getByLabel('Short name').fill('smart-crossings');
    await page.getByRole('button', { name: 'Create the project' }).click();
    await page.getByRole('alert').waitFor();
  });

  it('pages the users through the API\'s cursor with "show more"', async () => {
    for (let i = 0; i < 55; i++) {
      await op('POST', '/api/v1/users', { username: `citizen-${String(i).padStart(2, '0')}`, email: `c${i}@example.org` });
    }
    const page = pages.olga;
    await page.goto(server.url + '/ops/users');
    await page.getByText('Shown: 50 (more can be loaded)').waitFor();
    const more = page.getByRole('button', { name: 'Show more users' });
    await check(page, 'ops-users');
    await more.click();
    await page.getByText(/^Shown: 5\d$/).waitFor();
    assert.equal(await more.count(), 0);
    const all = (await op('GET', '/api/v1/users?limit=200')).json.items.length;
    assert.equal(await page.locator('tbody tr').count(), all);
  });

  it('speaks Korean on the operator pages', async () => {
    const page = pages.olga;
    await page.goto(server.url + '/ops/audit');
    await page.getByLabel('Language').selectOption('ko');
    await page.getByRole('heading', { level: 1, name: '감사 기록' }).waitFor();
    await page.getByRole('navigation', { name: '운영 메뉴' }).getByRole('link', { name: '대기열과 실행 중인 작업' }).waitFor();
    await check(page, 'ops-audit-ko');
    await page.getByLabel('언어').selectOption('en');
  });

  it('tells the operator when the API fails, in plain words, and recovers on retry', async () => {
    const page = pages.olga;
    await page.route('**/api/v1/ops/hoarding', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/problem+json',
        body: JSON.stringify({
          type: 'urn:openlab:problem:unavailable', title: 'Temporarily unavailable', status: 503,
          detail: 'the ledger is not answering',
        }),
      }),
    );
    await page.goto(server.url + '/ops/hoarding');
    const alert = page.getByRole('alert');
    await alert.getByText('The server is busy or not ready. Try again in a moment.').waitFor();
    await alert.getByText('The server said: the ledger is not answering').waitFor();
    await page.unroute('**/api/v1/ops/hoarding');
    await alert.getByRole('button', { name: 'Try again' }).click();
    await page.getByText(/No allocation is behind its pace\.|Pace/).first().waitFor();
    assert.equal(await page.getByRole('alert').count(), 0);
  });
});
