/**
 * Holds real exchanges with recurd against its OpenAPI document (GET /api/v1/openapi.json): the
 * method and path must be an operation of the document, the status one it documents for that
 * operation, and a JSON body must fit the schema of that operation and status (ajv, JSON Schema
 * 2020-12, formats checked). Any test file can use it: `await OpenApiCheck.of(daemon.address)`,
 * then `expect(check.problems(exchange)).toEqual([])` for each answer it gets.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import type { OpenApiDocument, OperationObject } from '../../src/http/openapi.js';

type Schema = Record<string, unknown>;

/** One request and its answer, as a test saw them. */
export interface Exchange {
  method: string;
  /** The path, with its query if any. */
  url: string;
  status: number;
  contentType: string | null;
  /** The body parsed as JSON when the answer is JSON, else its text. */
  body: unknown;
}

const COMPONENTS = '#/components/schemas/';
const URN = 'urn:recurd:schema:';

/** The schema with its references to components pointed at the ids they are registered under in ajv. */
function rebased(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebased);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [key, key === '$ref' && typeof value === 'string' && value.startsWith(COMPONENTS) ? `${URN}${value.slice(COMPONENTS.length)}` : rebased(value)]),
  );
}

function templateMatcher(path: string): { path: string; literal: number; pattern: RegExp } {
  const segments = path.split('/');
  const pattern = new RegExp(`^${segments.map((segment) => (/^\{[^}]+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`);
  return { path, literal: segments.filter((segment) => !segment.startsWith('{')).length, pattern };
}

export class OpenApiCheck {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: true });
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly templates: Array<{ path: string; literal: number; pattern: RegExp }>;
  /** `operationId status` of every exchange held against the document. */
  readonly seen = new Set<string>();

  constructor(readonly document: OpenApiDocument) {
    formats.default(this.ajv);
    for (const [name, schema] of Object.entries(document.components.schemas)) this.ajv.addSchema({ ...(rebased(schema) as Schema), $id: `${URN}${name}` });
    // A path with more fixed segments wins over a template it also matches, as OpenAPI says.
    this.templates = Object.keys(document.paths)
      .map(templateMatcher)
      .sort((a, b) => b.literal - a.literal);
  }

  static async of(base: string): Promise<OpenApiCheck> {
    const response = await fetch(`${base}/api/v1/openapi.json`);
    if (response.status !== 200) throw new Error(`GET /api/v1/openapi.json answered ${response.status}`);
    return new OpenApiCheck((await response.json()) as OpenApiDocument);
  }

  /** The operation a request is for, with its documented path; null when the document has none. */
  operationOf(method: string, url: string): { path: string; operation: OperationObject } | null {
    const path = url.split('?')[0] ?? url;
    for (const template of this.templates) {
      if (!template.pattern.test(path)) continue;
      const operation = this.document.paths[template.path]?.[method.toLowerCase()];
      if (operation !== undefined) return { path: template.path, operation };
    }
    return null;
  }

  /** What does not fit the document in an exchange: empty when it is as documented. */
  problems(exchange: Exchange): string[] {
    const where = `${exchange.method} ${exchange.url} → ${exchange.status}`;
    const found = this.operationOf(exchange.method, exchange.url);
    if (found === null) return [`${where}: no operation of the document has this method and path`];
    const response = found.operation.responses[String(exchange.status)];
    if (response === undefined) return [`${where}: ${found.operation.operationId} does not document status ${exchange.status}`];
    this.seen.add(`${found.operation.operationId} ${exchange.status}`);
    const media = (exchange.contentType ?? '').split(';')[0]?.trim() ?? '';
    if (response.content === undefined) return media === '' ? [] : [`${where}: documented without a body, answered ${media}`];
    const documented = response.content[media];
    if (documented === undefined) return [`${where}: answered ${media || 'no content type'}, documented ${Object.keys(response.content).join(', ')}`];
    if (documented.schema === undefined) return [];
    const key = `${found.operation.operationId} ${exchange.status} ${media}`;
    return this.validate(key, documented.schema, exchange.body).map((problem) => `${where}: ${problem}`);
  }

  /** What does not fit the documented request body of the operation a request is for. */
  requestProblems(method: string, url: string, body: unknown): string[] {
    const found = this.operationOf(method, url);
    if (found === null) return [`${method} ${url}: no operation of the document has this method and path`];
    const schema = found.operation.requestBody?.content['application/json']?.schema;
    if (schema === undefined) return [`${method} ${url}: ${found.operation.operationId} documents no JSON body`];
    return this.validate(`${found.operation.operationId} request`, schema, body).map((problem) => `${method} ${url} request: ${problem}`);
  }

  private validate(key: string, schema: object, value: unknown): string[] {
    let validator = this.validators.get(key);
    if (validator === undefined) {
      validator = this.ajv.compile(rebased(schema) as Schema);
      this.validators.set(key, validator);
    }
    if (validator(value)) return [];
    return (validator.errors ?? []).map((error) => `${error.instancePath || '(body)'} ${error.message ?? 'does not fit'}${error.params === undefined ? '' : ` ${JSON.stringify(error.params)}`}`);
  }
}

/**
 * The routes Fastify holds, as `METHOD url`, read from its `printRoutes()` tree: each line is a
 * segment of the URL under the line above it with less indentation, and a line that serves
 * requests ends with its methods in parentheses. HEAD, which Fastify adds for every GET, is left out.
 */
export function fastifyRoutes(tree: string): string[] {
  const stack: Array<{ depth: number; text: string }> = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^(.*?)(?:├── |└── )(.*)$/.exec(line);
    if (match === null) continue;
    const depth = (match[1] ?? '').length;
    const [, segment = '', methods] = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(match[2] ?? '') ?? [];
    while (stack.length > 0 && (stack.at(-1)?.depth ?? 0) >= depth) stack.pop();
    stack.push({ depth, text: segment });
    if (methods === undefined) continue;
    const url = stack.map((entry) => entry.text).join('');
    for (const method of methods.split(', ')) if (method !== 'HEAD') routes.push(`${method} ${url}`);
  }
  return routes;
}
