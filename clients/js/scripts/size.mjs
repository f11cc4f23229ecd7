// npm run size: the size of each bundle as shipped (minified) and as served compressed (gzip, level 9). The first line
// (dist/chatkit.js) is the one test/size.test.js reads.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

for (const name of ['chatkit.js', 'e2e.js']) {
  const code = readFileSync(new URL(`../dist/${name}`, import.meta.url));
  const gzipped = gzipSync(code, { level: 9 }).length;
  console.log(`dist/${name}: ${code.length} bytes minified, ${gzipped} bytes gzipped`);
}
