// npm run build: bundles src/index.ts into dist/chatkit.js and src/e2e/index.ts (the end-to-end encryption core, kept
// out of the main bundle) into dist/e2e.js with esbuild, then has tsc emit the declarations.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'dist'), { recursive: true, force: true });
// The e2e bundle uses the main bundle's classes (ChatKitError, Emitter) from ./chatkit.js at run time, so
// `instanceof` holds across the two and nothing is carried twice.
const mainBundle = {
  name: 'chatkit-main-bundle',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/index\.js$/ }, () => ({ path: './chatkit.js', external: true }));
  },
};
const bundles = { 'src/index.ts': ['dist/chatkit.js', []], 'src/e2e/index.ts': ['dist/e2e.js', [mainBundle]] };
for (const [entry, [outfile, plugins]] of Object.entries(bundles)) {
  await build({
    plugins,
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
}
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root, '--declaration', '--emitDeclarationOnly', '--declarationDir', join(root, 'dist/types')], { stdio: 'inherit' });
writeFileSync(join(root, 'dist/chatkit.d.ts'), 'export * from "./types/index.js";\n');
writeFileSync(join(root, 'dist/e2e.d.ts'), 'export * from "./types/e2e/index.js";\n');
