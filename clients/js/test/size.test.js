// The bundle size, as `npm run size` prints it: reported, not held to a number.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

test('bundle size (npm run size)', { timeout: 60_000 }, (t) => {
  assert.ok(existsSync(new URL('../dist/chatkit.js', import.meta.url)), 'dist/chatkit.js is built (npm test builds first)');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['run', '--silent', 'size'], { cwd: root, encoding: 'utf8', shell: process.platform === 'win32' });
  assert.equal(result.status, 0, result.stderr);
  const match = /(\d+) bytes minified, (\d+) bytes gzipped/.exec(result.stdout);
  assert.ok(match, `unexpected output: ${result.stdout}`);
  const [minified, gzipped] = [Number(match[1]), Number(match[2])];
  assert.ok(minified > 0 && gzipped > 0 && gzipped < minified);
  t.diagnostic(`dist/chatkit.js: ${minified} bytes minified (${(minified / 1024).toFixed(1)} KiB), ${gzipped} bytes gzipped (${(gzipped / 1024).toFixed(1)} KiB)`);
});
