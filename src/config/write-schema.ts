/**
 * Prints the config's JSON Schema exactly as `config/recurd.schema.json` holds it: `recurd schema`,
 * or `node dist/src/config/write-schema.js` on its own.
 */
import { pathToFileURL } from 'node:url';
import { configJsonSchema } from './json-schema.js';

export function renderConfigJsonSchema(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

export function writeConfigJsonSchema(out: NodeJS.WritableStream = process.stdout): void {
  out.write(renderConfigJsonSchema());
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) writeConfigJsonSchema();
