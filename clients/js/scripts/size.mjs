// npm run size: the size of the bundle as shipped (minified) and as served compressed (gzip, level 9).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const file = new URL('../dist/chatkit.js', import.meta.url);
const code = readFileSync(file);
const gzipped = gzipSync(code, { level: 9 }).length;
console.log(`dist/chatkit.js: ${code.length} bytes minified, ${gzipped} bytes gzipped`);
