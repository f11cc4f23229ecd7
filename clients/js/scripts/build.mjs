// npm run build: bundles src/index.ts into dist/chatkit.js with esbuild, then has tsc emit the declarations.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'dist'), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/index.ts'],
  outfile: 'dist/chatkit.js',
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root, '--declaration', '--emitDeclarationOnly', '--declarationDir', join(root, 'dist/types')], { stdio: 'inherit' });
writeFileSync(join(root, 'dist/chatkit.d.ts'), 'export * from "./types/index.js";\n');
