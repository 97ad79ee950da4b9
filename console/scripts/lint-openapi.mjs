// Lints an OpenAPI document with Redocly's rules (the engine of `redocly lint`, from
// @redocly/openapi-core) and the configuration in console/redocly.yaml.
// Usage: node scripts/lint-openapi.mjs PATH/openapi.json   (exit 1 on any finding)
import { fileURLToPath } from 'node:url';
import { formatProblems, lint, loadConfig } from '@redocly/openapi-core';

const file = process.argv[2];
if (!file) {
  console.error('usage: lint-openapi.mjs OPENAPI.json');
  process.exit(2);
}
const config = await loadConfig({
  configPath: fileURLToPath(new URL('../redocly.yaml', import.meta.url)),
});
const problems = await lint({ ref: file, config });
if (problems.length > 0) {
  formatProblems(problems, { format: 'codeframe', totals: undefined, version: '' });
  console.error(`openlab: the OpenAPI document has ${problems.length} lint finding(s) (console/redocly.yaml)`);
  process.exit(1);
}
console.log(`openapi lint: ${file}: no finding`);
