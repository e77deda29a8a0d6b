/**
 * The OpenAPI 3.1 document of recurd's HTTP API, built from the operations (operations.ts) and the
 * zod schemas the routes validate with: requests on their input side, answers from responses.ts.
 * JSON Schema draft 2020-12 is what OpenAPI 3.1 uses, and what zod's `toJSONSchema` writes.
 */
import { z } from 'zod';
import { ERRORS, type ErrorCode } from '../errors.js';
import { TAGS, errorCodesOf, statusOf, type Access, type AnyOperation, type Answer } from './operations.js';
import { errorEnvelope, responseSchemas } from './responses.js';
import { ROLES } from './roles.js';

type JsonSchema = z.core.JSONSchema.BaseSchema;

export interface OpenApiDocument {
  openapi: string;
  jsonSchemaDialect: string;
  info: { title: string; version: string; description: string; license: { name: string; identifier: string } };
  tags: Array<{ name: string; description: string }>;
  paths: Record<string, Record<string, OperationObject>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, SecurityScheme> };
}

export interface OperationObject {
  operationId: string;
  tags: string[];
  summary: string;
  description: string;
  security: Array<Record<string, string[]>>;
  parameters?: ParameterObject[];
  requestBody?: { required: boolean; description?: string; content: Record<string, { schema?: JsonSchema }> };
  responses: Record<string, ResponseObject>;
}

export interface ParameterObject {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

export interface ResponseObject {
  description: string;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
  content?: Record<string, { schema?: JsonSchema }>;
}

export interface SecurityScheme {
  type: 'http' | 'apiKey';
  scheme?: string;
  in?: 'header';
  name?: string;
  description: string;
}

const DIALECT = 'https://json-schema.org/draft/2020-12/schema';
const COMPONENTS = '#/components/schemas/';

export const SECURITY_SCHEMES: Record<string, SecurityScheme> = {
  apiToken: {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API token of `api.token` (an admin token) or `api.tokens`. Each has a role, ranked: `read` lists and shows, `write` also records what people do on an NC, `admin` also voids, accepts risk and replays dead letters. The role an operation needs is named in its security requirement; a higher one will do. A role too low is answered 403 naming the role needed.',
  },
  metricsToken: { type: 'http', scheme: 'bearer', description: '`http.metricsToken`, needed for /metrics only when it is set.' },
  intakeBearer: { type: 'http', scheme: 'bearer', description: "A connector with `auth.type: bearer`: its token." },
  intakeBasic: { type: 'http', scheme: 'basic', description: 'A connector with `auth.type: basic`: its username and password.' },
  intakeSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'x-recurd-signature',
    description:
      'A connector with `auth.type: hmac`: the HMAC-SHA256 of the raw body with its secret, `sha256=` and hex by default; with `auth.timestamp`, of `<timestamp>.<body>`, the time of signing in Unix seconds in `x-recurd-timestamp`, each signature taken once. The header, prefix and encoding are set per connector.',
  },
};

/** Who may call, in the words of the operation's description. */
function accessSentence(access: Access): string {
  switch (access.kind) {
    case 'token':
      return `Needs an API token whose role is ${ROLES.slice(ROLES.indexOf(access.role)).map((role) => `\`${role}\``).join(' or ')}.`;
    case 'intake':
      return 'Needs the credentials of the connector named in the path: bearer, basic or an HMAC signature, as its `auth` says.';
    case 'metrics':
      return 'Needs the metrics token when `http.metricsToken` is set, no credential otherwise.';
    case 'probe':
      return 'Needs no credential; with an API token of any role it shows more.';
    case 'public':
      return 'Needs no credential: it holds no data of the register.';
  }
}

function securityOf(access: Access): Array<Record<string, string[]>> {
  switch (access.kind) {
    case 'token':
      return [{ apiToken: [access.role] }];
    case 'intake':
      return [{ intakeBearer: [] }, { intakeBasic: [] }, { intakeSignature: [] }];
    case 'metrics':
      return [{}, { metricsToken: [] }];
    case 'probe':
      return [{}, { apiToken: [] }];
    case 'public':
      return [];
  }
}

/** One schema on its own, without the dialect every schema of the document shares. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { target: 'draft-2020-12', io });
  return json;
}

/** The answers' schemas, each once, by the name it is registered under. */
function componentSchemas(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(responseSchemas, { target: 'draft-2020-12', io: 'output', uri: (id) => `${COMPONENTS}${id}` });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      if (id === '__shared') throw new Error('a schema in responses.ts is shared without a name: register it with named()');
      const { $schema: _dialect, $id: _id, ...body } = schema;
      return [id, body];
    }),
  );
}

function parameters(declared: AnyOperation): ParameterObject[] {
  const named = [...declared.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] ?? '');
  const described = declared.params === undefined ? {} : (jsonSchema(declared.params, 'input').properties ?? {});
  const missing = named.filter((name) => !(name in described));
  const extra = Object.keys(described).filter((name) => !named.includes(name));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(`${declared.id}: the params of ${declared.path} do not match its path (missing: ${missing.join(', ') || 'none'}; not in the path: ${extra.join(', ') || 'none'})`);
  }
  const inPath = named.map((name) => parameter(name, 'path', true, described[name] as JsonSchema));
  if (declared.query === undefined) return inPath;
  const query = jsonSchema(declared.query, 'input');
  const required = new Set(query.required ?? []);
  return [...inPath, ...Object.entries(query.properties ?? {}).map(([name, schema]) => parameter(name, 'query', required.has(name), schema as JsonSchema))];
}

function parameter(name: string, place: 'path' | 'query', required: boolean, schema: JsonSchema): ParameterObject {
  const { description, ...rest } = schema;
  return { name, in: place, required, ...(description === undefined ? {} : { description }), schema: rest };
}

function answer(declared: AnyOperation, status: number, given: Answer): ResponseObject {
  const media = Object.entries(given.media ?? {});
  const description = [given.description, ...media.map(([type, what]) => `${type}: ${what}`)].join('; ');
  const headers = Object.entries(given.headers ?? {});
  // A route may answer JSON or, when asked, another medium (the review as HTML): both are listed.
  let content: ResponseObject['content'] = media.length > 0 ? Object.fromEntries(media.map(([type]) => [type, {}])) : undefined;
  if (given.json !== undefined) {
    const id = responseSchemas.get(given.json)?.id;
    if (id === undefined) throw new Error(`${declared.id}: the schema of its ${status} answer is not registered in responses.ts: register it with named()`);
    content = { 'application/json': { schema: { $ref: `${COMPONENTS}${id}` } }, ...content };
  }
  return {
    description,
    ...(headers.length === 0 ? {} : { headers: Object.fromEntries(headers.map(([name, what]) => [name, { description: what, schema: { type: 'string' } }])) }),
    ...(content === undefined ? {} : { content }),
  };
}

function errorAnswer(codes: Array<ErrorCode | 'INTERNAL'>): ResponseObject {
  const lines = codes.map((code) => `\`RECURD_ERR_${code}\`: ${code === 'INTERNAL' ? 'an unexpected error; the recurd log says more' : ERRORS[code].title}`);
  const [first, ...rest] = codes.map((code) => `RECURD_ERR_${code}`);
  const retryAfter: Pick<ResponseObject, 'headers'> = codes.includes('RATE_LIMITED') ? { headers: { 'retry-after': { description: 'seconds to wait before sending again', schema: { type: 'string' } } } } : {};
  return {
    description: lines.join('; '),
    ...retryAfter,
    content: { 'application/json': { schema: jsonSchema(errorEnvelope([first ?? 'RECURD_ERR_INTERNAL', ...rest]), 'output') } },
  };
}

function responsesOf(declared: AnyOperation): Record<string, ResponseObject> {
  const answers: Record<string, ResponseObject> = {};
  for (const [status, given] of Object.entries(declared.answers)) answers[status] = answer(declared, Number(status), given);
  const byStatus = new Map<number, Array<ErrorCode | 'INTERNAL'>>();
  for (const code of errorCodesOf(declared)) byStatus.set(statusOf(code), [...(byStatus.get(statusOf(code)) ?? []), code]);
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    if (answers[status] !== undefined) throw new Error(`${declared.id}: ${status} is both an answer and the status of ${codes.join(', ')}`);
    answers[status] = errorAnswer(codes);
  }
  return answers;
}

function operationObject(declared: AnyOperation): OperationObject {
  const params = parameters(declared);
  let requestBody: OperationObject['requestBody'];
  if (declared.body !== undefined) {
    const schema = jsonSchema(declared.body.schema, 'input');
    // An empty body reads as {}: a body whose every field is optional may be left out.
    requestBody = { required: (schema.required ?? []).length > 0, content: { 'application/json': { schema } } };
  } else if (declared.rawBody !== undefined) {
    requestBody = { required: false, description: declared.rawBody, content: { 'application/json': {}, 'text/plain': {} } };
  }
  return {
    operationId: declared.id,
    tags: [declared.tag],
    summary: declared.summary,
    description: [declared.description, accessSentence(declared.access)].filter((part) => part !== undefined).join('\n\n'),
    security: securityOf(declared.access),
    ...(params.length === 0 ? {} : { parameters: params }),
    ...(requestBody === undefined ? {} : { requestBody }),
    responses: responsesOf(declared),
  };
}

export function openApiDocument(operations: readonly AnyOperation[]): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  const ids = new Set<string>();
  for (const declared of operations) {
    if (ids.has(declared.id)) throw new Error(`two operations have the id ${declared.id}`);
    ids.add(declared.id);
    const item = (paths[declared.path] ??= {});
    const method = declared.method.toLowerCase();
    if (item[method] !== undefined) throw new Error(`${declared.method} ${declared.path} is declared twice`);
    item[method] = operationObject(declared);
  }
  return {
    openapi: '3.1.1',
    jsonSchemaDialect: DIALECT,
    info: {
      title: 'recurd',
      // The API's version, as in /api/v1: the document is public, and recurd's own release would
      // tell a scanner which one runs here.
      version: '1',
      description:
        'recurd turns the recurrence of a fixed symptom into an ISO/IEC 27001 nonconformity. Errors answer `{"error": {"code": "RECURD_ERR_…", "message", "details"?}}`; the codes are those of the CLI and the logs. Times are ISO 8601.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    paths,
    components: { schemas: componentSchemas(), securitySchemes: SECURITY_SCHEMES },
  };
}
