/** Connector instances for tests of one connector, with in-memory state. */
import { MemoryConnectorState, type Connector, type ConnectorServices, type IntakeResult } from '../../connectors/types.js';
import { systemClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/log.js';

export function testServices(): ConnectorServices {
  return { state: new MemoryConnectorState(), clock: systemClock, logger: createLogger('silent') };
}

export interface SyncIntake {
  normalise(body: unknown, receivedAt: number, route?: string): IntakeResult;
}

/** The intake of a connector whose normalisation needs no I/O, called as the plain function it is. */
export function syncIntake(connector: Connector): SyncIntake {
  const intake = connector.intake;
  if (intake === undefined) throw new Error(`${connector.name} has no intake`);
  return {
    normalise(body, receivedAt, route = '') {
      const result = intake.normalise(body, receivedAt, route);
      if (result instanceof Promise) throw new Error(`${connector.name} normalises asynchronously: await it`);
      return result;
    },
  };
}
