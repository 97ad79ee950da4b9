// The public pages in Chromium against a real `openlab serve`: a citizen browses the catalogue
// anonymously, finds the public dataset by search, opens its page, and cannot see the project's
// dataset (neither in the list, nor by search, nor by its address); a person signs in and out;
// the interface speaks Korean. Every page passes axe-core with no serious or critical violation
// and is photographed under $OPENLAB_ARTIFACTS; its largest contentful paint is printed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  alice,
  axeViolations,
  launchBrowser,
  newContext,
  reportLcp,
  screenshot,
  seed,
  startServer,
} from './harness.mjs';

describe('the public console', () => {
  let server;
  let browser;
  let world;
  let page;

  // Each page: photographed and scanned.
  async function check(name) {
    await screenshot(page, name);
    assert.deepEqual(await axeViolations(page), [], `axe on ${name}`);
  }

  before(async () => {
    server = await startServer();
    world = await seed(server);
    browser = await launchBrowser();
    const context = await newContext(browser);
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    if (server) {
      if (process.exitCode) console.error(server.log());
      await server.stop();
    }
  });

  it('serves the home page with what the centre lends and the public dataset', async () => {
    await page.goto(server.url + '/');
    await page.getByRole('heading', { level: 1 }).waitFor();
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    const recent = page.locator('section', { has: page.getByRole('heading', { name: 'From the data catalogue' }) });
    await recent.getByRole('link', { name: 'Air quality in Gwangju' }).waitFor();
    assert.equal(await recent.getByText('Clinic visits of the project').count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Sign in' }).count(), 1);
    await check('home');
  });

  it('lists only the public dataset in the catalogue, anonymously', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Data catalogue' }).click();
    await page.waitForURL(server.url + '/datasets');
    await page.getByRole('link', { name: 'Air quality in Gwangju' }).waitFor();
    assert.equal(await page.getByRole('status').first().textContent(), 'Datasets shown: 1');
    assert.equal(await page.getByText('Clinic visits of the project').count(), 0);
    await check('catalogue');
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

    // After a reload the cookie still signs her in, and the CSRF token kept for this tab lets a
    // write through: signing out is a cookie-authenticated POST.
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
