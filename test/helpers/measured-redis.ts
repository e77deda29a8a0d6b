/** A Redis client that counts what it is asked and measures what it is answered. */
import { Redis } from 'ioredis';

/** A client that records the size of every reply (as its JSON would be), and how many commands it sent. */
export function measured(url: string): { client: Redis; largestReply: () => number; commands: () => number; reset: () => void } {
  const client = new Redis(url);
  let largest = 0;
  let commands = 0;
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((command: Parameters<Redis['sendCommand']>[0], ...rest: unknown[]) => {
    commands += 1;
    command.promise.then(
      (reply: unknown) => {
        largest = Math.max(largest, JSON.stringify(reply, (_key, value: unknown) => (Buffer.isBuffer(value) ? value.toString('latin1') : value))?.length ?? 0);
      },
      () => undefined,
    );
    return (send as (...args: unknown[]) => unknown)(command, ...rest);
  });
  return {
    client,
    largestReply: () => largest,
    commands: () => commands,
    reset: () => {
      largest = 0;
      commands = 0;
    },
  };
}

