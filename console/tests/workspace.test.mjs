// The project workspace in Chromium against a real `openlab serve` whose jobs run on this machine
// (--sandbox auto: in the sandbox where the machine allows it): a PI signs in, opens her project,
// submits a job, opens its page, watches its log, sees it complete, and sees its charge on the
// allocation's burn-down; a new tab of the same browser can still write (the CSRF token comes from
// /me); her API tokens are created (the secret shown once) and revoked; a member who is not the
// PI cannot cancel another's job (no button, and a forced try is refused in words); a form posted
// from another origin creates no token. Every page passes axe-core with no serious or critical
// violation and is photographed under $OPENLAB_ARTIFACTS.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  alice,
  axeViolations,
  client,
  launchBrowser,
  newContext,
  screenshot,
  seed,
  startServer,
} from './harness.mjs';

const bob = { username: 'bob', password: 'a long passphrase for bob' };

// The job the PI submits from the page: lines over about three seconds, and one on stderr.
const script = `for i in 1 2 3 4 5 6; do echo "line $i"; sleep 0.5; done
echo "done counting" >&2
`;

describe('the project workspace', () => {
  let server;
  let browser;
  let world;
  let context;
  let page;
  let op;
  let asAlice;
  let asBob;
  let aliceLong;  // alice's job that runs until it is cancelled
  let bobLong;    // bob's, the same

  async function check(p, name) {
    await screenshot(p, name);
    assert.deepEqual(await axeViolations(p), [], `axe on ${name}`);
  }

  async function signIn(p, who) {
    await p.goto(`${server.url}/signin`);
    await p.getByLabel('Username').fill(who.username);
    await p.getByLabel('Password').fill(who.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('button', { name: 'Sign out' }).waitFor();
  }

  async function session(who) {
    const login = await client(server.url)('POST', '/api/v1/login', who);
    const cookie = login.headers.get('set-cookie').split(';')[0];
    return client(server.url, { cookie, csrf: login.json.csrf_token });
  }

  // Waits, through the API, until the job has reached `state`.
  async function until(call, id, states) {
    for (;;) {
      const j = (await call('GET', `/api/v1/jobs/${id}`)).json;
      if (states.includes(j.state)) return j;
      await new Promise((ok) => setTimeout(ok, 200));
    }
  }

  before(async () => {
    server = await startServer(['--sandbox', 'auto', '--local-cpus', '4']);
    world = await seed(server);
    op = client(server.url, { token: server.token });
    const expires = new Date(Date.now() + 30 * 86400e3).toISOString().replace(/\.\d+Z$/, 'Z');
    await op('POST', `/api/v1/projects/${world.project.id}/allocations`, {
      resource: 'cpu', hours: 10, expires_at: expires, note: 'pilot',
    });
    await op('POST', '/api/v1/users', {
      username: bob.username, email: 'bob@gist.example', display_name: 'Bob Lee', password: bob.password,
    });
    await op('PUT', `/api/v1/orgs/${world.org.id}/members/bob`, { role: 'member' });
    // The PI adds members to her project.
    asAlice = await session(alice);
    await asAlice('PUT', `/api/v1/projects/${world.project.id}/members/bob`, { role: 'member' });
    asBob = await session(bob);
    const long = { project_id: world.project.id, script: 'sleep 600\n', cpus: 1, time_limit_s: 900 };
    aliceLong = (await asAlice('POST', '/api/v1/jobs', { ...long, name: 'alice-long' })).json;
    bobLong = (await asBob('POST', '/api/v1/jobs', { ...long, name: 'bob-long' })).json;
    await until(asAlice, aliceLong.id, ['running']);
    await until(asBob, bobLong.id, ['running']);
    browser = await launchBrowser();
    context = await newContext(browser);
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    // The long job still running is stopped by its PI.
    if (asAlice && aliceLong) await asAlice('POST', `/api/v1/jobs/${aliceLong.id}/cancel`).catch(() => {});
    if (server) {
      if (process.exitCode) console.error(server.log());
      await server.stop();
    }
  });

  it('asks an anonymous visitor to sign in', async () => {
    await page.goto(`${server.url}/projects`);
    await page.getByRole('heading', { level: 1, name: 'Sign in to use your workspace' }).waitFor();
    assert.equal(await page.getByText('Traffic signal AI').count(), 0);
    await check(page, 'ws-signin-first');
  });

  it('shows the PI her projects and the project: members, allocation, jobs, datasets', async () => {
    await signIn(page, alice);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My projects' }).click();
    await page.waitForURL(`${server.url}/projects`);
    await page.getByRole('link', { name: 'Traffic signal AI' }).waitFor();
    await check(page, 'ws-projects');

    await page.getByRole('link', { name: 'Traffic signal AI' }).click();
    await page.waitForURL(`${server.url}/projects/${world.project.id}`);
    await page.getByRole('heading', { level: 1, name: 'Traffic signal AI' }).waitFor();
    const members = page.locator('.ws-members');
    await members.getByText('alice').waitFor();
    assert.match(await members.textContent(), /alice · Principal investigator/);
    assert.match(await members.textContent(), /bob · Member/);
    await page.getByRole('heading', { name: 'Allocation of cpu' }).waitFor();
    assert.equal(await page.locator('[data-figure="granted"]').textContent(), '10 h');
    // The pace in words as well as on the chart.
    assert.match(await page.locator('.ws-pace').textContent(), /an even pace would have used .* by now/);
    await page.locator('.ws-chart canvas').first().waitFor();
    // Both long jobs are listed, newest first; the project's datasets too.
    const rows = page.locator('.ws-jobs tbody tr');
    await rows.nth(1).waitFor();
    assert.deepEqual(
      (await rows.locator('td:first-child').allTextContents()).slice(0, 2),
      ['bob-long', 'alice-long'],
    );
    await page.getByRole('link', { name: 'Clinic visits of the project' }).waitFor();
    await page.getByRole('link', { name: 'Air quality in Gwangju' }).waitFor();
    await check(page, 'ws-project');
  });

  it('submits a job, follows its log to the end, and shows its charge on the burn-down', async () => {
    await page.getByRole('button', { name: 'Submit a job' }).click();
    const form = page.locator('form', { has: page.getByRole('heading', { name: 'Submit a job' }) });
    await form.getByLabel('Name of the job').fill('count');
    await form.getByLabel('A bash script').check();
    await form.getByLabel('Bash script', { exact: true }).fill(script);
    await form.getByLabel('Time limit (minutes)').fill('5');
    await check(page, 'ws-submit');
    await form.getByRole('button', { name: 'Submit the job' }).click();
    await form.getByRole('status').getByText(/The job count was submitted/).waitFor();
    // It is at the top of the list at once.
    assert.equal(await page.locator('.ws-jobs tbody tr').first().locator('td').first().textContent(), 'count');

    // The log's text, each time it changes, kept to say (not assert) how it arrived.
    await page.getByRole('link', { name: 'Open the page of count' }).click();
    await page.waitForURL(/\/jobs\/job_/);
    await page.getByRole('heading', { level: 1, name: 'Job count' }).waitFor();
    await page.evaluate(() => {
      window.__logSteps = [];
      const seen = () => {
        const pre = document.querySelector('#log-panel-stdout pre');
        const text = pre ? pre.textContent : '';
        if (window.__logSteps[window.__logSteps.length - 1] !== text) window.__logSteps.push(text);
      };
      new MutationObserver(seen).observe(document.body, { subtree: true, childList: true, characterData: true });
      seen();
    });
    const stdout = page.getByRole('tabpanel', { name: 'Standard output' });
    await stdout.getByText('line 1').waitFor();
    await page.getByRole('status').getByText('The job has ended: Completed (exit code 0).').waitFor();
    assert.equal(
      await stdout.locator('pre').textContent(),
      'line 1\nline 2\nline 3\nline 4\nline 5\nline 6\n',
    );
    const steps = await page.evaluate(() => window.__logSteps.map((s) => s.split('\n').length - 1));
    console.log(`the log arrived in ${steps.length} steps, lines shown at each: ${steps.join(', ')}`);
    // Its end came into view by itself.
    const atEnd = await stdout.locator('pre').evaluate((el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 8);
    assert.equal(atEnd, true);
    // stderr in its own tab, reached with the arrow key.
    await page.getByRole('tab', { name: 'Standard output' }).focus();
    await page.keyboard.press('ArrowRight');
    const stderr = page.getByRole('tabpanel', { name: 'Standard error' });
    await stderr.locator('pre').getByText('done counting').waitFor();
    assert.equal(await page.getByRole('tab', { name: 'Standard error' }).getAttribute('aria-selected'), 'true');
    // Its charge, what it read and what left it.
    const charge = await page.locator('[data-figure="charge"]').textContent();
    assert.match(charge, /^0\.\d+ h of cpu$/);
    await page.getByText('It reads no dataset.').waitFor();
    await page.getByText('No file of this job has been asked to leave.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Cancel' }).count(), 0, 'an ended job has no cancel button');
    await check(page, 'ws-job');

    await page.getByRole('link', { name: 'Back to the project' }).click();
    await page.getByRole('heading', { name: 'Allocation of cpu' }).waitFor();
    const used = await page.locator('[data-figure="used"]').textContent();
    assert.match(used, /^0\.\d+ h$/);
    assert.ok(Number(used.replace(' h', '')) > 0, `used: ${used}`);
    const chart = page.locator('.ws-chart');
    await chart.locator('canvas').first().waitFor();
    // The grant, the hold and charge and release of each job, now and the grant's end.
    assert.ok(Number(await chart.getAttribute('data-points')) >= 5);
    await page.getByText(/^The ledger \(\d+ entries\)$/).click();
    const charges = page.locator('.ws-ledger tbody tr', { hasText: 'charge' });
    assert.ok((await charges.count()) >= 1, 'the ledger shows the charge');
    await check(page, 'ws-project-charged');
  });

  it('lets a new tab of the same browser write: it takes the CSRF token from /me', async () => {
    const tab = await context.newPage();
    await tab.goto(`${server.url}/tokens`);
    await tab.getByRole('heading', { level: 1, name: 'API tokens' }).waitFor();
    await tab.getByText('Signed in as Alice Kim').waitFor();
    await tab.getByLabel('Name', { exact: true }).fill('from a new tab');
    await tab.getByRole('checkbox', { name: 'jobs:read' }).check();
    await tab.getByLabel('Valid for (days)').fill('7');
    await tab.getByRole('button', { name: 'Create the token' }).click();
    await tab.getByRole('heading', { name: 'The secret of from a new tab' }).waitFor();
    const secret = await tab.getByLabel("The token's secret").inputValue();
    assert.match(secret, /.{20,}/);
    await check(tab, 'ws-tokens-secret');
    // The secret works, with the scope given and no other.
    const me = (await client(server.url, { token: secret })('GET', '/api/v1/me')).json;
    assert.equal(me.username, 'alice');
    assert.deepEqual(me.scopes, ['jobs:read']);
    await tab.getByRole('button', { name: 'I have copied it' }).click();
    assert.equal(await tab.getByLabel("The token's secret").count(), 0, 'the secret is shown once');

    // Nothing of the session is kept in the tab's storage.
    assert.deepEqual(await tab.evaluate(() => Object.keys(sessionStorage)), []);

    const row = tab.locator('tr', { hasText: 'from a new tab' });
    await row.getByRole('button', { name: 'Revoke the token from a new tab' }).click();
    await row.getByRole('button', { name: 'Revoke it' }).click();
    await row.getByText(/^Revoked on /).waitFor();
    await assert.rejects(client(server.url, { token: secret })('GET', '/api/v1/me'), /401/);
    await check(tab, 'ws-tokens');
    await tab.close();
  });

  it('tells the person when a submission is refused, in plain words', async () => {
    await page.goto(`${server.url}/projects/${world.project.id}`);
    await page.getByRole('button', { name: 'Submit a job' }).click();
    const form = page.locator('form', { has: page.getByRole('heading', { name: 'Submit a job' }) });
    await form.getByLabel('Name of the job').fill('quoted');
    await form.getByLabel('A command (run directly, without a shell)').check();
    await form.getByLabel('Command line').fill(`python3 -c "print('unclosed)`);
    await form.getByText('A quote is not closed.').waitFor();
    await form.getByLabel('Command line').fill(`echo "two words" 'and three more'`);
    await form.getByText('Runs the arguments "echo" "two words" "and three more"').waitFor();
    // The server is not reachable for this one write.
    await page.route('**/api/v1/jobs', (route) => route.abort('connectionrefused'));
    await form.getByRole('button', { name: 'Submit the job' }).click();
    await form.getByRole('alert').getByText('The server cannot be reached. Check your connection and try again.').waitFor();
    await page.unroute('**/api/v1/jobs');
    await page.goto(`${server.url}/jobs/job_00000000000000000000000000`);
    await page.getByRole('alert').getByText('This does not exist, or you may not see it.').waitFor();
    await check(page, 'ws-job-not-found');
  });

  it('lets a member cancel only her own job: no button on another\'s, and a forced try refused in words', async () => {
    const bobs = await newContext(browser);
    const p = await bobs.newPage();
    await signIn(p, bob);
    await p.goto(`${server.url}/projects/${world.project.id}`);
    const row = (name) => p.locator('.ws-jobs tbody tr', { has: p.getByRole('link', { name, exact: true }) });
    await row('bob-long').getByRole('button', { name: 'Cancel the job bob-long' }).waitFor();
    await row('alice-long').waitFor();
    assert.equal(await row('alice-long').getByRole('button').count(), 0);

    await p.goto(`${server.url}/jobs/${aliceLong.id}`);
    await p.getByRole('heading', { level: 1, name: 'Job alice-long' }).waitFor();
    await p.getByRole('tabpanel', { name: 'Standard output' })
      .getByText('No output yet; new lines appear here as the job writes them.').waitFor();
    assert.equal(await p.getByRole('button', { name: /^Cancel/ }).count(), 0);
    await check(p, 'ws-job-member');

    // Forced: the page is told bob is the PI, so it offers the button; the server refuses.
    await p.route(`**/api/v1/projects/${world.project.id}/members**`, async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      for (const m of body.items) if (m.username === 'bob') m.role = 'pi';
      await route.fulfill({ response: res, json: body });
    });
    await p.reload();
    await p.getByRole('button', { name: 'Cancel the job alice-long' }).click();
    const refusal = p.getByRole('alert');
    await refusal.getByText('You are not allowed to do this.').waitFor();
    assert.match(await refusal.textContent(), /The server said: /);
    assert.equal((await asAlice('GET', `/api/v1/jobs/${aliceLong.id}`)).json.state, 'running');

    await p.goto(`${server.url}/tokens`);
    await p.getByText('You have no token.').waitFor();
    await bobs.close();

    // The PI may cancel the member's job, from the project page.
    await page.goto(`${server.url}/projects/${world.project.id}`);
    const hers = page.locator('.ws-jobs tbody tr', { has: page.getByRole('link', { name: 'bob-long', exact: true }) });
    await hers.getByRole('button', { name: 'Cancel the job bob-long' }).click();
    await hers.getByText('Cancellation asked.').waitFor();
    await until(asAlice, bobLong.id, ['cancelled']);
    await page.getByRole('button', { name: 'Refresh the jobs' }).click();
    await hers.getByText('Cancelled', { exact: true }).waitFor();
  });

  it('refuses a form posted from another origin: no token is created', async () => {
    const evil = createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>Win a prize</title>
<form id="f" method="post" action="${server.url}/api/v1/tokens" enctype="text/plain">
<input name='{"name":"stolen","scopes":["jobs:write"],"x":"' value='"}'>
</form>
<form id="g" method="post" action="${server.url}/api/v1/tokens">
<input name="name" value="stolen-form"><input name="scopes" value="jobs:write">
</form>
<script>document.getElementById(location.hash === '#g' ? 'g' : 'f').submit()</script>`);
    });
    await new Promise((ok) => evil.listen(0, '127.0.0.1', ok));
    const evilUrl = `http://127.0.0.1:${evil.address().port}/`;
    assert.notEqual(new URL(evilUrl).origin, new URL(server.url).origin);
    try {
      // alice is signed in (her cookie is in this context) and visits the other site.
      for (const hash of ['', '#g']) {
        const answered = page.waitForResponse((r) => r.url() === `${server.url}/api/v1/tokens` && r.request().method() === 'POST');
        await page.goto(evilUrl + hash);
        const res = await answered;
        assert.ok(res.status() >= 400, `the cross-site post was answered ${res.status()}`);
      }
    } finally {
      await new Promise((ok) => evil.close(ok));
    }
    const tokens = (await op('GET', '/api/v1/tokens?all=true&limit=500')).json.items;
    assert.deepEqual(tokens.filter((t) => t.name.startsWith('stolen')), []);
    // Her session still works in the console.
    await page.goto(`${server.url}/tokens`);
    await page.getByText('Signed in as Alice Kim').waitFor();
  });

  it('speaks Korean in the workspace', async () => {
    await page.goto(`${server.url}/projects/${world.project.id}`);
    await page.getByLabel('Language').selectOption('ko');
    await page.getByRole('heading', { name: '컴퓨팅 할당량' }).waitFor();
    await page.getByRole('heading', { name: 'cpu 할당량' }).waitFor();
    await check(page, 'ws-project-ko');
    await page.getByLabel('언어').selectOption('en');
  });
});
