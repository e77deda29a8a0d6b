/**
 * Builds dist/ once per `vitest run`, with the project's own `npm run build`, so that the CLI
 * tests run the compiled program a user runs and never a stale one.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export default async function setup(): Promise<void> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  try {
    await run('npm', ['run', '--silent', 'build'], { cwd: root, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm run build failed, so the CLI cannot be tested:\n${stdout}${stderr}`, { cause: error });
  }
}
