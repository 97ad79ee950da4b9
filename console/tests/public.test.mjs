// The public pages in Chromium against a real `openlab serve`: the centre's home page shows its
// name, description and live figures as the API gives them; a citizen browses the catalogue
// anonymously, filters it by access level and licence (kept in the address across a reload),
// finds the public dataset by search, opens its page, and cannot see the project's dataset
// (neither in the list, nor by search, nor by its address); a person signs in and out; the
// interface speaks Korean. Every page passes axe-core with no serious or critical violation
// and is photographed under $OPENLAB_ARTIFACTS; its largest contentful paint is printed.
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

const centreName = 'Gwangju AI Centre';
const centreDescription = 'Compute and data for the projects of Gwangju and the Honam region.';

// A person's API session, as the console has it: the cookie and its CSRF token.
async function session(server, who) {
  const login = await client(server.url)('POST', '/api/v1/login', who);
  return client(server.url, { cookie: login.headers.get('set-cookie').split(';')[0], csrf: login.json.csrf_token });
}

// What the home page should show for GET /api/v1/centre's figures, in English (en-GB), each
// label with its values; keys the console does not know are left out, as it leaves them.
function expectedFigures(figures) {
  const nf = new Intl.NumberFormat('en-GB');
  const n = (f) => nf.format(f.value) + (f.more ? '+' : '');
  const find = (key, type) => figures.find((f) => f.key === key && (type === undefined || (f.type ?? '') === type));
  const out = [];
  const gpus = figures.filter((f) => f.key === 'gpus');
  if (gpus.length) {
    out.push(['GPUs', gpus.map((g) => `${n(find('gpus_busy', g.type ?? ''))} of ${n(g)} ${g.type} busy`)]);
  }
  if (find('cpus')) out.push(['CPU cores', [`${n(find('cpus_busy'))} of ${n(find('cpus'))} busy`]]);
  for (const [key, label] of [['jobs_running', 'Jobs running'], ['jobs_queued', 'Jobs waiting in the queue'],
    ['datasets_listed', 'Datasets in the catalogue'], ['projects_active', 'Active projects']]) {
    if (find(key)) out.push([label, [n(find(key))]]);
  }
  return out;
}

describe('the public console', () => {
  let server;
  let browser;
  let world;
  let page;
  let asAlice;
  const jobs = [];

  // Each page: photographed and scanned.
  async function check(name) {
    await screenshot(page, name);
    assert.deepEqual(await axeViolations(page), [], `axe on ${name}`);
  }

  before(async () => {
    server = await startServer([
      '--local-gpus', '8', '--local-gpu-type', 'H100',
      '--centre-name', centreName, '--centre-description', centreDescription,
    ]);
    world = await seed(server);
    // A second listed dataset at another access level and licence, for the catalogue's filters.
    asAlice = await session(server, alice);
    world.registered = (await asAlice('POST', '/api/v1/datasets', {
      project_id: world.project.id, name: 'bus-timetables', title: 'Bus timetables of the city',
      description: 'Timetables of every city bus line.', license: 'KOGL-Type1', access_level: 'registered',
      tags: ['mobility'],
    })).json;
    // Two jobs of alice's project, for the centre's figures: one running, one waiting for it.
    const op = client(server.url, { token: server.token });
    await op('POST', `/api/v1/projects/${world.project.id}/allocations`, {
      resource: 'cpu', hours: 100, expires_at: new Date(Date.now() + 30 * 86400_000).toISOString(),
    });
    const job = { project_id: world.project.id, command: ['sleep', '300'], cpus: 1, time_limit_s: 600 };
    jobs.push((await asAlice('POST', '/api/v1/jobs', { ...job, name: 'model-a' })).json);
    jobs.push((await asAlice('POST', '/api/v1/jobs', { ...job, name: 'model-b', depends_on: jobs[0].id })).json);
    browser = await launchBrowser();
    const context = await newContext(browser);
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    // The jobs still running or waiting are stopped by their owner.
    for (const j of jobs.reverse()) await asAlice('POST', `/api/v1/jobs/${j.id}/cancel`).catch(() => {});
    if (server) {
      if (process.exitCode) console.error(server.log());
      await server.stop();
    }
  });

  it('serves the home page with the centre\'s name, what it lends and the public dataset', async () => {
    await page.goto(server.url + '/');
    await page.getByRole('heading', { level: 1, name: `${centreName} lends its compute, data and testbeds` }).waitFor();
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await page.locator('header .brand-name').textContent(), centreName);
    await page.waitForFunction((name) => document.title === name, centreName);
    await page.getByText(centreDescription).waitFor();
    const recent = page.locator('section', { has: page.getByRole('heading', { name: 'From the data catalogue' }) });
    await recent.getByRole('link', { name: 'Air quality in Gwangju' }).waitFor();
    assert.equal(await recent.getByText('Clinic visits of the project').count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Sign in' }).count(), 1);
    await check('home');
  });

  it('shows the centre\'s figures as the API gives them', async () => {
    const centre = async () => (await client(server.url)('GET', '/api/v1/centre')).json;
    // The figures are live (a job may start or end): compared where the API's answers before and
    // after the page's own are the same.
    let shown;
    let answer;
    for (let attempt = 0; attempt < 5 && !answer; attempt++) {
      const before = await centre();
      await page.goto(server.url + '/');
      const figures = page.getByRole('region', { name: 'The centre now' });
      await figures.getByRole('definition').first().waitFor();
      shown = await figures.locator('dl > div').evaluateAll((els) =>
        els.map((el) => [el.querySelector('dt').textContent, [...el.querySelectorAll('dd')].map((d) => d.textContent)]));
      const after = await centre();
      if (JSON.stringify(before.figures) === JSON.stringify(after.figures)) answer = after;
    }
    assert.ok(answer, 'the API\'s figures held still over one load of the page');
    assert.equal(answer.name, centreName);
    assert.deepEqual(shown, expectedFigures(answer.figures));
    // What this suite seeded: two listed datasets (the project's is not listed), one project, and
    // eight H100s declared with --local-gpus.
    const value = (key) => answer.figures.find((f) => f.key === key).value;
    assert.equal(value('datasets_listed'), 2);
    assert.equal(value('projects_active'), 1);
    assert.deepEqual(shown.find(([label]) => label === 'Datasets in the catalogue'), ['Datasets in the catalogue', ['2']]);
    assert.deepEqual(shown.find(([label]) => label === 'Active projects'), ['Active projects', ['1']]);
    assert.match(shown.find(([label]) => label === 'GPUs')[1][0], /^\d+ of 8 H100 busy$/);
    await check('home-figures');
  });

  it('lists only the public dataset in the catalogue, anonymously', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Data catalogue' }).click();
    await page.waitForURL(server.url + '/datasets');
    await page.getByRole('link', { name: 'Air quality in Gwangju' }).waitFor();
    await page.getByRole('link', { name: 'Bus timetables of the city' }).waitFor();
    assert.equal(await page.getByRole('status').first().textContent(), 'Datasets shown: 2');
    assert.equal(await page.getByText('Clinic visits of the project').count(), 0);
    await check('catalogue');
  });

  it('filters the catalogue by access level and licence, kept in the address across a reload', async () => {
    const results = page.locator('.dataset-list');
    const titles = () => results.locator('.dataset-item-title').allTextContents();
    const levels = () => results.locator('.badge').allTextContents();
    await page.goto(server.url + '/datasets');
    await page.getByRole('link', { name: 'Bus timetables of the city' }).waitFor();
    // The licences of the datasets shown are offered to the licence field.
    assert.deepEqual(
      await page.locator('#licenses-shown option').evaluateAll((os) => os.map((o) => o.value)),
      ['CC-BY-4.0', 'KOGL-Type1'],
    );

    await page.getByLabel('Access level').selectOption('registered');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(server.url + '/datasets?access_level=registered');
    await page.getByRole('status').getByText('Datasets shown: 1', { exact: true }).waitFor();
    assert.deepEqual(await titles(), ['Bus timetables of the city']);
    assert.deepEqual(await levels(), ['Registered']);
    await check('catalogue-level');

    // Reloaded (or shared), the address brings back the same filter and the same list.
    await page.reload();
    await page.getByRole('status').getByText('Datasets shown: 1', { exact: true }).waitFor();
    assert.equal(page.url(), server.url + '/datasets?access_level=registered');
    assert.equal(await page.getByLabel('Access level').inputValue(), 'registered');
    assert.deepEqual(await levels(), ['Registered']);

    await page.getByLabel('Access level').selectOption('open');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(server.url + '/datasets?access_level=open');
    await page.getByRole('link', { name: 'Air quality in Gwangju' }).waitFor();
    assert.deepEqual(await titles(), ['Air quality in Gwangju']);
    assert.deepEqual(await levels(), ['Open']);

    // The licence, with the search words and the access level: all of them hold.
    await page.getByLabel('Access level').selectOption('');
    await page.getByLabel('Licence').fill('KOGL-Type1');
    await page.getByLabel('Search datasets').fill('bus');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(server.url + '/datasets?q=bus&license=KOGL-Type1');
    await page.getByRole('link', { name: 'Bus timetables of the city' }).waitFor();
    assert.deepEqual(await titles(), ['Bus timetables of the city']);
    await page.getByLabel('Access level').selectOption('open');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(server.url + '/datasets?q=bus&access_level=open&license=KOGL-Type1');
    await page.getByText('No dataset matches.').waitFor();
    await page.reload();
    await page.getByText('No dataset matches.').waitFor();
    assert.equal(await page.getByLabel('Search datasets').inputValue(), 'bus');
    assert.equal(await page.getByLabel('Access level').inputValue(), 'open');
    assert.equal(await page.getByLabel('Licence').inputValue(), 'KOGL-Type1');
    await check('catalogue-filtered');

    // "Show more" asks for the next page with the same filters. The server's page here is
    // answered with a cursor, so that there is a next page to ask for.
    const asked = [];
    await page.route('**/api/v1/datasets?**', async (route) => {
      const url = new URL(route.request().url());
      asked.push(url.searchParams);
      if (url.searchParams.has('cursor')) {
        await route.fulfill({ json: { items: [], next_cursor: null } });
      } else {
        const res = await route.fetch();
        await route.fulfill({ response: res, json: { ...(await res.json()), next_cursor: 'next-page' } });
      }
    });
    await page.goto(server.url + '/datasets?access_level=open&license=CC-BY-4.0');
    await page.getByRole('button', { name: 'Show more datasets' }).click();
    await page.getByRole('status').getByText('Datasets shown: 1', { exact: true }).waitFor();
    await page.unroute('**/api/v1/datasets?**');
    const more = asked.find((p) => p.has('cursor'));
    assert.ok(more, 'the next page was asked for');
    assert.deepEqual(
      [more.get('cursor'), more.get('access_level'), more.get('license')],
      ['next-page', 'open', 'CC-BY-4.0'],
    );
    assert.deepEqual(await titles(), ['Air quality in Gwangju']);

    // Clearing drops every filter.
    await page.getByRole('link', { name: 'Clear' }).click();
    await page.waitForURL(server.url + '/datasets');
    await page.getByRole('status').getByText('Datasets shown: 2', { exact: true }).waitFor();
    assert.equal(await page.getByLabel('Access level').inputValue(), '');
    assert.equal(await page.getByLabel('Licence').inputValue(), '');
  });

  it('finds the public dataset by search, and not the project one', async () => {
    await page.getByLabel('Search datasets').fill('particulate');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(server.url + '/datasets?q=particulate');
    await page.getByRole('link', { name: 'Air quality in Gwangju' }).waitFor();
    await check('catalogue-search');

    await page.getByLabel('Search datasets').fill('clinic');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(server.url + '/datasets?q=clinic');
    await page.getByText('No dataset matches.').waitFor();
    assert.equal(await page.getByText('Clinic visits of the project').count(), 0);
  });

  it('opens the dataset page: datasheet rendered safely, versions, files, Croissant', async () => {
    await page.getByLabel('Search datasets').fill('air');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Air quality in Gwangju' }).click();
    await page.waitForURL(`${server.url}/datasets/${world.open.id}`);
    await page.getByRole('heading', { level: 1, name: 'Air quality in Gwangju' }).waitFor();
    await page.getByRole('cell', { name: 'stations/list.csv' }).waitFor();

    // The Markdown became HTML (a heading, a table); the HTML in it stayed text, the script link
    // lost its href, and none of it ran.
    // Its own headings sit below the page's (the page keeps one h1).
    const sheet = page.locator('.markdown');
    assert.equal(await sheet.locator('h3').textContent(), 'Air quality in Gwangju');
    assert.equal(await page.locator('h1').count(), 1);
    assert.equal(await sheet.locator('table th').first().textContent(), 'column');
    assert.equal(await sheet.locator('script, img, [onerror]').count(), 0);
    assert.match(await sheet.textContent(), /<script>window.__datasheetScript = 1<\/script>/);
    assert.equal(await sheet.getByRole('link', { name: 'the stations' }).getAttribute('href'), 'https://example.org/stations');
    const link = sheet.locator('a', { hasText: 'a link that runs code' });
    assert.equal(await link.getAttribute('href'), '');
    await link.click();
    assert.deepEqual(
      await page.evaluate(() => [window.__datasheetScript, window.__datasheetImg, window.__datasheetLink]),
      [undefined, undefined, undefined],
    );

    await page.locator('.versions li', { hasText: 'v1' }).getByText('2 files, 84 B').waitFor();
    const download = page.getByRole('link', { name: 'Download readings.csv' });
    const fileUrl = server.url + (await download.getAttribute('href'));
    const file = await page.evaluate((u) => fetch(u).then((r) => r.text()), fileUrl);
    assert.match(file, /^station,hour,pm25,pm10\n/);
    const croissant = await page.getByRole('link', { name: 'Croissant metadata (JSON-LD)' }).getAttribute('href');
    const meta = await page.evaluate((u) => fetch(u).then((r) => r.json()), server.url + croissant);
    assert.equal(meta.name, 'air-quality');
    // Anonymous: no form to ask for access or contribute, but a way to sign in to do so.
    assert.equal(await page.getByRole('button', { name: 'Contribute data' }).count(), 0);
    await page.getByText('Sign in to request access or to contribute.').waitFor();
    await check('dataset');
  });

  it('does not show the project dataset at its own address', async () => {
    await page.goto(`${server.url}/datasets/${world.closed.id}`);
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').textContent(), /This does not exist, or you may not see it\./);
    assert.equal(await page.getByText('Clinic visits of the project').count(), 0);
    assert.equal(await page.getByText('Visits to the partner clinics.').count(), 0);
    await check('dataset-not-visible');
  });

  it('answers an unknown address with the console\'s own not-found page', async () => {
    await page.goto(server.url + '/no/such/page');
    await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
    await check('not-found');
  });

  it('signs in (a wrong password told in plain words), keeps the session over a reload, signs out', async () => {
    await page.goto(server.url + '/datasets');
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL(server.url + '/signin?next=%2Fdatasets');
    await page.getByLabel('Username').fill(alice.username);
    await page.getByLabel('Password').fill('not her password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('The username or password is wrong.').waitFor();
    await check('signin');

    await page.getByLabel('Password').fill(alice.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(server.url + '/datasets');
    await page.getByText('Signed in as Alice Kim').waitFor();
    // Her project's dataset is hers to see.
    await page.getByRole('link', { name: 'Clinic visits of the project' }).waitFor();

    await page.getByRole('link', { name: 'Air quality in Gwangju' }).click();
    await page.getByRole('button', { name: 'Contribute data' }).click();
    await page.getByRole('heading', { name: 'Contribute data' }).waitFor();
    await check('dataset-signed-in');

    // After a reload the cookie still signs her in, and the CSRF token that GET /me gives the
    // reloaded page (the console keeps it in memory only) lets a write through: signing out is a
    // cookie-authenticated POST.
    await page.reload();
    await page.getByText('Signed in as Alice Kim').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    assert.equal(await page.getByRole('alert').count(), 0);
    await page.goto(server.url + '/datasets');
    await page.getByRole('link', { name: 'Air quality in Gwangju' }).waitFor();
    assert.equal(await page.getByText('Clinic visits of the project').count(), 0);
  });

  it('shows the keyboard where it is: a skip link first, and a visible focus ring', async () => {
    await page.goto(server.url + '/datasets');
    await page.getByRole('link', { name: 'Air quality in Gwangju' }).waitFor();
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to the content' });
    assert.equal(await skip.evaluate((el) => el === document.activeElement), true);
    const ring = await skip.evaluate((el) => {
      const s = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      return { style: s.outlineStyle, width: s.outlineWidth, top: r.top };
    });
    assert.deepEqual([ring.style, ring.width], ['solid', '3px']);
    assert.ok(ring.top >= 0, 'the skip link comes into view when focused');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    // The next stop after skipping is in the page's content, not the header.
    assert.equal(await page.evaluate(() => document.activeElement.closest('main') !== null), true);
  });

  it('tells the person when the API fails, in plain words, and recovers on retry', async () => {
    await page.goto(server.url + '/datasets');
    await page.getByRole('link', { name: 'Air quality in Gwangju' }).waitFor();
    // No answer at all.
    await page.route('**/api/v1/datasets?**', (route) => route.abort('connectionrefused'));
    await page.getByLabel('Search datasets').fill('air');
    await page.getByRole('button', { name: 'Search' }).click();
    const alert = page.getByRole('alert');
    await alert.getByText('The server cannot be reached. Check your connection and try again.').waitFor();
    // A problem+json answer: the plain words for its type, and the server's detail.
    await page.unroute('**/api/v1/datasets?**');
    await page.route('**/api/v1/datasets?**', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/problem+json',
        body: JSON.stringify({
          type: 'urn:openlab:problem:unavailable', title: 'Temporarily unavailable', status: 503,
          detail: 'the store is not answering',
        }),
      }),
    );
    await alert.getByRole('button', { name: 'Try again' }).click();
    await alert.getByText('The server is busy or not ready. Try again in a moment.').waitFor();
    await alert.getByText('The server said: the store is not answering').waitFor();
    await page.unroute('**/api/v1/datasets?**');
    await alert.getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('link', { name: 'Air quality in Gwangju' }).waitFor();
    assert.equal(await page.getByRole('alert').count(), 0);
  });

  // Printed, not asserted: each public page loaded afresh, once what it shows has arrived.
  it('measures the largest contentful paint of each public page', async () => {
    const pages = [
      ['home', '/', page.getByRole('link', { name: 'Air quality in Gwangju' })],
      ['catalogue', '/datasets', page.getByRole('link', { name: 'Air quality in Gwangju' })],
      ['catalogue-search', '/datasets?q=particulate', page.getByRole('link', { name: 'Air quality in Gwangju' })],
      ['dataset', `/datasets/${world.open.id}`, page.getByRole('cell', { name: 'readings.csv' })],
      ['signin', '/signin', page.getByLabel('Password')],
    ];
    for (const [name, path, shown] of pages) {
      await page.goto(server.url + path);
      await shown.waitFor();
      await reportLcp(page, name);
    }
  });

  it('speaks Korean: chosen from the menu and kept, or taken from the browser', async () => {
    await page.goto(server.url + '/');
    await page.getByLabel('Language').selectOption('ko');
    assert.equal(await page.getAttribute('html', 'lang'), 'ko');
    await page.getByRole('navigation', { name: '주 메뉴' }).getByRole('link', { name: '데이터 카탈로그' }).waitFor();
    await page.reload();
    await page.getByRole('link', { name: '데이터 카탈로그' }).first().waitFor();
    assert.equal(await page.getAttribute('html', 'lang'), 'ko');
    await check('home-ko');
    await page.getByLabel('언어').selectOption('en');

    const korean = await newContext(browser, { locale: 'ko-KR' });
    const p = await korean.newPage();
    await p.goto(server.url + '/datasets');
    await p.getByRole('heading', { level: 1, name: '데이터 카탈로그' }).waitFor();
    assert.equal(await p.getAttribute('html', 'lang'), 'ko');
    await korean.close();
  });
});
