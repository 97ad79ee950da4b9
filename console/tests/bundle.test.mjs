// What a browser downloads to show the public pages: index.html's scripts, the modules it
// preloads and its stylesheets, gzip-compressed as the server sends them. The budget is 200 KB
// of JavaScript (issue 11); pages for signed-in people are to be loaded with import() so that
// they stay out of it.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { paths } from './harness.mjs';

test('the public pages ship under 200 KB of compressed JavaScript', async () => {
  const html = await readFile(join(paths.consoleDir, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/<(script|link)\b[^>]*?(?:src|href)="(\/assets\/[^"]+)"[^>]*>/g)].map((m) => m[2]);
  const scripts = refs.filter((r) => r.endsWith('.js'));
  const styles = refs.filter((r) => r.endsWith('.css'));
  assert.ok(scripts.length > 0, 'index.html names its scripts');
  const size = async (r) => gzipSync(await readFile(join(paths.consoleDir, r)), { level: 9 }).length;
  let js = 0;
  for (const r of scripts) js += await size(r);
  let css = 0;
  for (const r of styles) css += await size(r);
  console.log(`public pages: ${(js / 1024).toFixed(1)} KB of JavaScript, ${(css / 1024).toFixed(1)} KB of CSS (gzip)`);
  assert.ok(js < 200 * 1024, `${js} bytes of compressed JavaScript`);
});
