/** A real Prometheus Alertmanager (Debian's prometheus-alertmanager) whose webhook receiver is recurd. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireProgram } from './installed.js';
import { freePort } from './redis.js';

export interface TestAlertmanager {
  url: string;
  /** POST /api/v2/alerts */
  post(alerts: Array<{ labels: Record<string, string>; annotations?: Record<string, string>; startsAt?: string; endsAt?: string }>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `repeatInterval`: how often a notification of an unchanged group is sent again (Alertmanager's
 * syntax). A null `webhookUrl` gives a receiver that notifies nobody: Alertmanager only takes alerts.
 */
export async function startAlertmanager(webhookUrl: string | null, bearerToken: string, { repeatInterval = '1h' } = {}): Promise<TestAlertmanager> {
  const binary = requireProgram('prometheus-alertmanager', 'prometheus-alertmanager');
  const dir = mkdtempSync(join(tmpdir(), 'recurd-am-'));
  const port = await freePort();
  const config = join(dir, 'alertmanager.yml');
  writeFileSync(
    config,
    [
      'route:',
      '  receiver: recurd',
      "  group_by: ['alertname', 'instance']",
      '  group_wait: 0s',
      '  group_interval: 1s',
      `  repeat_interval: ${repeatInterval}`,
      'receivers:',
      '  - name: recurd',
      ...(webhookUrl === null
        ? []
        : [
            '    webhook_configs:',
            `      - url: ${webhookUrl}`,
            '        send_resolved: true',
            '        http_config:',
            '          authorization:',
            `            credentials: ${bearerToken}`,
          ]),
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(
    binary,
    [`--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', `--storage.path=${dir}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus-alertmanager exited (${child.exitCode}): ${stderr}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`prometheus-alertmanager did not become ready within 15s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    async post(alerts) {
      const response = await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
      if (!response.ok) throw new Error(`Alertmanager refused the alerts: ${response.status} ${await response.text()}`);
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
