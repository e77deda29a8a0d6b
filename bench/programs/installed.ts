/** Tests and the bench scripts drive real programs; a missing one is a failure with a clear message, never a skip. */
import { execFileSync } from 'node:child_process';

export function requireProgram(name: string, debianPackage: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`${name} is not installed: recurd's tests and bench scripts drive the real program (apt-get install -y ${debianPackage})`);
  }
}
