// Builds the UI only when a source is newer than the last build. The app embeds dist/ and
// is rebuilt whenever dist/ changes, so a needless UI build costs a release build of the app.
// Usage: node scripts/build-if-stale.mjs   (from ui/)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ui = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sources = ['src', 'public', 'index.html', 'package.json', 'package-lock.json', 'vite.config.ts', 'svelte.config.js', 'tsconfig.json'];

/** The latest modification time under `entry`, tests left out (they are not built). */
function newest(entry) {
  let stat;
  try {
    stat = statSync(entry);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return /\.test\.ts$/.test(entry) ? 0 : stat.mtimeMs;
  return Math.max(0, ...readdirSync(entry).map((name) => newest(path.join(entry, name))));
}

let built = 0;
try {
  built = statSync(path.join(ui, 'dist', 'index.html')).mtimeMs;
} catch {
  // Never built.
}
const changed = Math.max(...sources.map((s) => newest(path.join(ui, s))));
if (built > changed) {
  console.log('UI: dist/ is up to date');
} else {
  const run = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ui, stdio: 'inherit', shell: process.platform === 'win32' });
  process.exit(run.status ?? 1);
}
