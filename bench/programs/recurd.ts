/** recurd as a user starts it: `node dist/src/cli.js start --config FILE`, in a process of its own. */
import { spawn, type ChildProcess } from 'node:child_process';

export interface RecurdStart {
  config: string;
  /** Where it listens, as its config says: readiness is read from there. */
  port: number;
  env: NodeJS.ProcessEnv;
  /** Options for node itself, before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** `inherit` passes its log through; `capture` keeps it for logs(). */
  output: 'inherit' | 'capture';
  /** How long it may take to answer /readyz 200. */
  readyWithinMs?: number;
}

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class RecurdProcess {
  readonly base: string;
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private output = '';

  private constructor(options: RecurdStart) {
    this.base = `http://127.0.0.1:${options.port}`;
    const stdio = options.output === 'inherit' ? 'inherit' : 'pipe';
    this.child = spawn(process.execPath, [...(options.nodeArgs ?? []), 'dist/src/cli.js', 'start', '--config', options.config], {
      stdio: ['ignore', stdio, stdio],
      env: options.env,
    });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Starts it and resolves once /readyz answers 200; fails if it exits or takes too long first. */
  static async start(options: RecurdStart): Promise<RecurdProcess> {
    const recurd = new RecurdProcess(options);
    const deadline = Date.now() + (options.readyWithinMs ?? 20_000);
    for (;;) {
      if (recurd.child.exitCode !== null) throw new Error(`recurd exited with ${recurd.child.exitCode} before it was ready\n${recurd.output}`);
      try {
        if ((await fetch(`${recurd.base}/readyz`)).ok) return recurd;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await recurd.stop('SIGKILL');
        throw new Error(`recurd did not become ready within ${options.readyWithinMs ?? 20_000} ms\n${recurd.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Its JSON log lines so far (with `output: 'capture'`); a line that is not JSON is kept as its text. */
  logs(): LogLine[] {
    return this.output
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        try {
          return JSON.parse(line) as LogLine;
        } catch {
          return { level: 50, msg: line };
        }
      });
  }

  /** Sends the signal (SIGTERM: a graceful stop) and resolves once the process has ended. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }
}
