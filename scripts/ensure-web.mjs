// Builds the web app before `npm start` when its bundle is missing or older than its sources
// (a Vite build takes about a second), so a fresh clone serves the UI without a separate step.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const web = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '../apps/web');
const bundle = path.join(web, 'dist/index.html');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}

const stale = !existsSync(bundle) || newestSource(path.join(web, 'src')) > statSync(bundle).mtimeMs;
if (stale) {
  try {
    execFileSync('npm', ['run', 'build', '--silent', '-w', '@tandem/web'], { stdio: 'inherit' });
  } catch {
    console.error('Building the web app failed: the API will run, the UI will not be served.');
  }
}
