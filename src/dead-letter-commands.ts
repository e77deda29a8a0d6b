/**
 * `recurd dlq list|show|replay|drop`: what did not fit, and a way to run it again once the
 * mapping or the sender is fixed. A replayed entry that now fits is queued and removed; one that
 * still does not fit stays, and the command says why.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { parseIntakeBody } from '../connectors/payload.js';
import { createConnector } from '../connectors/registry.js';
import type { Connector, IntakeResult } from '../connectors/types.js';
import type { Config } from './config/schema.js';
import { systemClock } from './core/clock.js';
import { ConnectorStatus } from './connector-status.js';
import { DeadLetters, type DeadLetter } from './dead-letters.js';
import { RecurdError } from './errors.js';
import { createLogger } from './log.js';
import { enqueueAlerts } from './pipeline.js';

export interface ReplayOutcome {
  id: string;
  connector: string;
  accepted: number;
  /** Empty when the entry now fits and was queued. */
  problems: string[];
}

function connectorFor(config: Config, redis: Redis, name: string): Connector {
  const connectorConfig = config.connectors.find((candidate) => candidate.name === name);
  if (connectorConfig === undefined) throw new RecurdError('CONNECTOR_NOT_FOUND', `the dead letter came from connector "${name}", which the config no longer has`);
  return createConnector(connectorConfig, {
    state: new ConnectorStatus(redis, config.redis.keyPrefix).state(name),
    clock: systemClock,
    logger: createLogger('warn'),
  });
}

async function readAgain(connector: Connector, letter: DeadLetter): Promise<IntakeResult> {
  if (connector.intake !== undefined) {
    const body = parseIntakeBody(letter.body, connector.intake.subroutes);
    if ('error' in body) return { alerts: [], errors: [{ path: '(body)', message: `not JSON (${body.error})` }] };
    return connector.intake.normalise(body.value, letter.receivedAt, letter.route);
  }
  if (connector.readDeadLetter !== undefined) return connector.readDeadLetter(letter.body, letter.receivedAt);
  throw new RecurdError('REQUEST_INVALID', `connector "${connector.name}" cannot read its dead letters again; fix the source and let it poll`);
}

export class DeadLetterCommands {
  private readonly letters: DeadLetters;

  constructor(
    private readonly config: Config,
    private readonly redis: Redis,
  ) {
    this.letters = new DeadLetters(redis, config.redis.keyPrefix, config.retention.deadLetters);
  }

  list(limit: number): Promise<DeadLetter[]> {
    return this.letters.list(limit);
  }

  async show(id: string): Promise<DeadLetter> {
    // Entries are named by their stream id; Redis refuses anything else, which is an unknown entry, not a failure.
    if (!/^\d+-\d+$/.test(id)) throw new RecurdError('NOT_FOUND', `no dead letter ${id}`);
    const letter = await this.letters.get(id);
    if (letter === null) throw new RecurdError('NOT_FOUND', `no dead letter ${id}`);
    return letter;
  }

  async drop(id: string): Promise<void> {
    if (!/^\d+-\d+$/.test(id) || !(await this.letters.drop(id))) throw new RecurdError('NOT_FOUND', `no dead letter ${id}`);
  }

  /** Replays one entry, or every entry (oldest first) when `id` is 'all'. */
  async replay(id: string): Promise<ReplayOutcome[]> {
    const letters = id === 'all' ? (await this.letters.list(Number.MAX_SAFE_INTEGER)).reverse() : [await this.show(id)];
    const ingest = new Queue('ingest', { connection: this.redis, prefix: this.config.redis.keyPrefix });
    const outcomes: ReplayOutcome[] = [];
    try {
      for (const letter of letters) {
        const { alerts, errors, stateChanges } = await readAgain(connectorFor(this.config, this.redis, letter.connector), letter);
        if (errors.length > 0) {
          outcomes.push({ id: letter.id, connector: letter.connector, accepted: 0, problems: errors.map((error) => `${error.path}: ${error.message}`) });
          continue;
        }
        const state = stateChanges && { key: new ConnectorStatus(this.redis, this.config.redis.keyPrefix).stateKey(letter.connector), fields: stateChanges };
        await enqueueAlerts(ingest, alerts.map((alert) => ({ ...alert, receivedAt: Date.now() })), this.config.retention.failedJobs, state);
        await this.letters.drop(letter.id);
        outcomes.push({ id: letter.id, connector: letter.connector, accepted: alerts.length, problems: [] });
      }
    } finally {
      await ingest.close();
    }
    return outcomes;
  }
}
