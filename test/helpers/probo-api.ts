/**
 * Probo's console GraphQL API on loopback. Every request is parsed and validated against Probo's own
 * schema (test/fixtures/probo/console-v1-findings.trimmed.graphql, its variables coerced as gqlgen
 * does), its API key read as Probo reads it, and the finding inputs checked with the rules of
 * Probo's FindingService (ids of the right entity type, SafeText, a risk for RISK_ACCEPTED).
 * Answers are what the server makes: data from executing the operation on that schema, errors
 * shaped as Probo's gqlutils shapes them (the fixtures beside the schema).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buildSchema, execute, getOperationAST, getVariableValues, Kind, OperationTypeNode, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { z } from 'zod';
import { ENDPOINT, ENTITY_TYPES, entityTypeOf } from '../../src/notifiers/probo.js';
import { startVendorApi, type VendorAnswer, type VendorApi, type VendorRequest } from './vendor-api.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/probo/${name}`, import.meta.url), 'utf8');
export const proboFixture = (name: string): unknown => JSON.parse(fixture(name));

const schema: GraphQLSchema = buildSchema(fixture('console-v1-findings.trimmed.graphql'));

/** A Probo id of an entity type: tenant, type, creation time and randomness, as pkg/gid makes them. */
export function proboId(entity: keyof typeof ENTITY_TYPES, tenant = Buffer.from('5a17c0de00000001', 'hex')): string {
  const id = Buffer.alloc(24);
  tenant.copy(id, 0, 0, 8);
  id.writeUInt16BE(ENTITY_TYPES[entity], 8);
  id.writeBigUInt64BE(BigInt(Date.now()), 10);
  randomBytes(6).copy(id, 18);
  return id.toString('base64url');
}

/** A Probo API key as securetoken.Sign makes it: the key's id, a dot, an HMAC-SHA256 in base64url. */
export function proboApiKey(): string {
  return `${proboId('organization')}.${randomBytes(32).toString('base64url')}`;
}

export interface ProboFinding {
  id: string;
  kind: string;
  referenceId: string;
  description: string | null;
  source: string | null;
  identifiedOn: string | null;
  rootCause: string | null;
  correctiveAction: string | null;
  ownerId: string | null;
  dueDate: string | null;
  status: string;
  priority: string;
  riskId: string | null;
  effectivenessCheck: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ProboApi extends VendorApi {
  organizationId: string;
  people: { ops: string; ciso: string };
  riskId: string;
  token: string;
  findings: Map<string, ProboFinding>;
  /** The operations received, by name (RecurdCreateFinding…), in order. */
  operations(): string[];
  /** The next createFinding is stored but answered 504, as a proxy that gave up waiting does: a create whose answer was lost. */
  loseNextCreateAnswer(): void;
}

const requestBody = z.object({ query: z.string(), variables: z.record(z.string(), z.unknown()).optional(), operationName: z.string().optional() }).strict();

interface ValidationIssue {
  field: string;
  code: string;
  message: string;
  value: unknown;
}

const HTML_TAG = /<\/?[a-zA-Z][^>]*>|<![^>]*>/;

/** pkg/validator SafeText(5000): not empty, at most 5000 bytes, no HTML tag, printable. */
function safeTextIssue(field: string, value: unknown): ValidationIssue | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') return { field, code: 'INVALID_FORMAT', message: 'value must be a string', value };
  const text = value;
  const issue = (code: string, message: string): ValidationIssue => ({ field, code, message, value });
  if (text.trim() === '') return issue('REQUIRED', 'field cannot be empty');
  if (Buffer.byteLength(text) > 5000) return issue('TOO_LONG', 'must be at most 5000 characters');
  if (HTML_TAG.test(text)) return issue('INVALID_FORMAT', 'must not contain HTML tags');
  for (const [index, char] of [...text].entries()) {
    const code = char.codePointAt(0) ?? 0;
    if (char === ' ' || char === '\n' || char === '\r') continue;
    if (code < 0x20 || (code >= 0x7f && code < 0xa0)) return issue('INVALID_FORMAT', `contains invalid control character at position ${index}`);
    if ((code >= 0x200e && code <= 0x200f) || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069))
      return issue('INVALID_FORMAT', `contains bidirectional override character at position ${index}`);
    if (code === 0x200b || code === 0x200c || code === 0x200d || code === 0xfeff) return issue('INVALID_FORMAT', `contains zero-width character at position ${index}`);
    if (code === 0xad || code === 0x2060 || code === 0x180e) return issue('INVALID_FORMAT', `contains invisible formatting character at position ${index}`);
    if ((code >= 0xe000 && code <= 0xf8ff) || (code >= 0xf0000 && code <= 0xffffd) || (code >= 0x100000 && code <= 0x10fffd))
      return issue('INVALID_FORMAT', `contains private use character at position ${index}`);
    if (code === 0xfffd) return issue('INVALID_FORMAT', `contains replacement character at position ${index}`);
  }
  return null;
}

const TEXT_FIELDS: Array<[string, string]> = [
  ['description', 'description'],
  ['source', 'source'],
  ['rootCause', 'root_cause'],
  ['correctiveAction', 'corrective_action'],
  ['effectivenessCheck', 'effectiveness_check'],
];

/** CreateFindingRequest.Validate / UpdateFindingRequest.Validate (pkg/probo/finding_service.go). */
function findingIssues(input: Record<string, unknown>, creating: boolean): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const gid = (name: string, field: string, entity: keyof typeof ENTITY_TYPES): void => {
    const value = input[name];
    if (typeof value === 'string' && entityTypeOf(value) !== ENTITY_TYPES[entity]) issues.push({ field, code: 'INVALID_GID', message: 'GID has invalid entity type', value });
  };
  if (creating) gid('organizationId', 'organization_id', 'organization');
  else gid('id', 'id', 'finding');
  for (const [name, field] of TEXT_FIELDS) {
    const issue = safeTextIssue(field, input[name]);
    if (issue !== null) issues.push(issue);
  }
  gid('ownerId', 'owner_id', 'profile');
  gid('riskId', 'risk_id', 'risk');
  if (creating && input.status === 'RISK_ACCEPTED' && (input.riskId === undefined || input.riskId === null)) issues.push({ field: 'risk_id', code: 'REQUIRED', message: 'field is required', value: null });
  return issues;
}

/** gqlutils.Invalid per validation error, on the mutation's path. */
function invalid(field: string, issues: ValidationIssue[]): VendorAnswer {
  return {
    status: 200,
    body: {
      errors: issues.map((issue) => ({
        message: `${issue.field} ${issue.message}`,
        path: [field],
        extensions: { cause: issue.code, code: 'INVALID', field: issue.field, value: issue.value },
      })),
      data: { [field]: null },
    },
  };
}

/** A resolver's gqlutils error (NOT_FOUND, INTERNAL) on the field's path: a nullable field becomes null, a non-null one (node) nulls the data. */
function resolverError(field: string, message: string, code: string, nullable = true): VendorAnswer {
  const kept = RESOLVER_ERROR_FIXTURES[`${field} ${code}`];
  if (kept !== undefined) return { status: 200, body: proboFixture(kept) };
  return { status: 200, body: { errors: [{ message, path: [field], extensions: { code } }], data: nullable ? { [field]: null } : null } };
}

/** The resolver errors kept as fixtures, answered as they are. */
const RESOLVER_ERROR_FIXTURES: Record<string, string> = {
  'updateFinding NOT_FOUND': 'error-not-found-update.200.json',
  'createFinding INTERNAL': 'error-internal-create.200.json',
};

export async function startProboApi(): Promise<ProboApi> {
  const organizationId = proboId('organization');
  const people = { ops: proboId('profile'), ciso: proboId('profile') };
  const riskId = proboId('risk');
  const token = proboApiKey();
  const findings = new Map<string, ProboFinding>();
  const operations: string[] = [];
  let loseCreate = false;
  let sequence = 0;
  const documents = new Map<VendorRequest, DocumentNode>();

  const now = (): string => new Date().toISOString();
  const organization = {
    __typename: 'Organization',
    id: organizationId,
    name: 'Acme',
    findings: (args: { first?: number; orderBy?: { field: string; direction: string } }) => {
      const ordered = [...findings.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.referenceId.localeCompare(b.referenceId));
      if (args.orderBy?.direction === 'DESC') ordered.reverse();
      const page = ordered.slice(0, args.first ?? ordered.length);
      return {
        totalCount: findings.size,
        edges: page.map((finding) => ({ cursor: Buffer.from(JSON.stringify([finding.id, finding.createdAt])).toString('base64url'), node: { __typename: 'Finding', ...finding } })),
        pageInfo: { hasNextPage: ordered.length > page.length, hasPreviousPage: false, startCursor: null, endCursor: null },
      };
    },
  };

  function create(input: Record<string, unknown>): ProboFinding {
    sequence += 1;
    const at = now();
    const text = (name: string): string | null => {
      const value = input[name];
      return typeof value === 'string' ? value : null;
    };
    const finding: ProboFinding = {
      id: proboId('finding'),
      kind: String(input.kind),
      // coredata/finding.go: 'FND-' || LPAD(next_num, 3, '0')
      referenceId: `FND-${String(sequence).padStart(3, '0')}`,
      description: text('description'),
      source: text('source'),
      identifiedOn: text('identifiedOn'),
      rootCause: text('rootCause'),
      correctiveAction: text('correctiveAction'),
      ownerId: text('ownerId'),
      dueDate: text('dueDate'),
      status: text('status') ?? 'OPEN',
      priority: text('priority') ?? 'MEDIUM',
      riskId: text('riskId'),
      effectivenessCheck: text('effectivenessCheck'),
      createdAt: at,
      updatedAt: at,
    };
    findings.set(finding.id, finding);
    return finding;
  }

  function answer(request: VendorRequest): VendorAnswer {
    // The API key middleware finds no identity; the identity presence middleware answers 401.
    if (request.headers.authorization !== `Bearer ${token}`)
      return { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token", resource_metadata="http://probo.invalid/.well-known/oauth-protected-resource"' }, body: proboFixture('error-unauthenticated.401.json') };
    const body = request.json as z.infer<typeof requestBody>;
    const document = documents.get(request) as DocumentNode;
    const operation = getOperationAST(document, body.operationName);
    const variables = getVariableValues(schema, operation?.variableDefinitions ?? [], body.variables ?? {});
    const input = ((variables.coerced ?? {}) as { input?: Record<string, unknown> }).input ?? {};
    const name = operation?.name?.value ?? '(anonymous)';
    operations.push(name);
    const rootValue = {
      node: ({ id }: { id: string }) => {
        if (id === organizationId) return organization;
        const finding = findings.get(id);
        return finding === undefined ? null : { __typename: 'Finding', ...finding };
      },
      createFinding: () => {
        const finding = create(input);
        return { findingEdge: { cursor: finding.id, node: { __typename: 'Finding', ...finding } } };
      },
      updateFinding: () => {
        const finding = findings.get(String(input.id)) as ProboFinding;
        for (const [key, value] of Object.entries(input)) if (key !== 'id' && value !== undefined) (finding as unknown as Record<string, unknown>)[key] = value;
        finding.updatedAt = now();
        return { finding: { __typename: 'Finding', ...finding } };
      },
    };
    const mutation = operation?.selectionSet.selections.find((selection) => selection.kind === Kind.FIELD)?.name.value;
    if (mutation === 'createFinding' || mutation === 'updateFinding') {
      const creating = mutation === 'createFinding';
      const issues = findingIssues(input, creating);
      if (issues.length > 0) return invalid(mutation, issues);
      if (!creating && !findings.has(String(input.id))) return resolverError(mutation, 'resource not found', 'NOT_FOUND');
      // An unknown owner or risk fails LoadByID inside the service: the resolver answers INTERNAL.
      const known = [undefined, null, ...Object.values(people)];
      if (!known.includes(input.ownerId as string) || ![undefined, null, riskId].includes(input.riskId as string))
        return resolverError(mutation, 'An internal server error occurred. Please try again later.', 'INTERNAL');
      if (!creating) {
        const finding = findings.get(String(input.id)) as ProboFinding;
        if ((input.status ?? finding.status) === 'RISK_ACCEPTED' && (input.riskId ?? finding.riskId) === null)
          return resolverError(mutation, 'An internal server error occurred. Please try again later.', 'INTERNAL');
      }
    }
    if (name === 'RecurdCreateFinding' && loseCreate) {
      loseCreate = false;
      rootValue.createFinding();
      return { status: 504, body: 'upstream request timeout' };
    }
    if (operation?.operation === OperationTypeNode.QUERY) {
      const id = (variables.coerced as { id?: string; organizationId?: string } | undefined)?.id ?? (variables.coerced as { organizationId?: string }).organizationId;
      if (id !== undefined && rootValue.node({ id }) === null) return resolverError('node', 'resource not found', 'NOT_FOUND', false);
    }
    const result = execute({ schema, document, rootValue, variableValues: body.variables ?? {}, operationName: body.operationName }) as { data?: unknown; errors?: unknown[] };
    if (result.errors !== undefined) throw new Error(`the fake Probo failed to execute ${name}: ${JSON.stringify(result.errors)}`);
    return { status: 200, body: { data: result.data } };
  }

  const api = await startVendorApi('Probo', [
    {
      method: 'POST',
      path: ENDPOINT,
      body: requestBody,
      check: (request) => {
        if (request.headers['content-type'] !== 'application/json') return `content-type is ${String(request.headers['content-type'])}, not application/json`;
        const body = request.json as z.infer<typeof requestBody>;
        let document: DocumentNode;
        try {
          document = parse(body.query);
        } catch (error) {
          return `the query does not parse: ${(error as Error).message}`;
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return `the query does not fit Probo's schema: ${errors.map((error) => error.message).join('; ')}`;
        const operation = getOperationAST(document, body.operationName);
        if (!operation) return 'no single operation to run';
        const variables = getVariableValues(schema, operation.variableDefinitions ?? [], body.variables ?? {});
        if (variables.errors !== undefined) return `the variables do not fit Probo's schema: ${variables.errors.map((error) => error.message).join('; ')}`;
        documents.set(request, document);
        return null;
      },
      answer,
    },
  ]);
  return Object.assign(api, {
    organizationId,
    people,
    riskId,
    token,
    findings,
    operations: () => [...operations],
    loseNextCreateAnswer: () => {
      loseCreate = true;
    },
  });
}
