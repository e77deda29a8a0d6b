/**
 * Every HTTP route of recurd, declared once as an operation: method, path, who may call it, the
 * schemas of what it takes (requests.ts) and of what it answers (responses.ts), and the error codes
 * it may answer with. server.ts registers each route from its operation and openapi.ts builds the
 * OpenAPI document from the same operations, so that the document describes what the routes check.
 * The server refuses a route that names no operation (`config.operation`): none can exist
 * undocumented.
 *
 * Adding a route:
 * 1. Put its query and body schemas beside the others in requests.ts (or in its own module), and the
 *    schemas of its JSON answers in responses.ts, each registered with `named('Name', schema)`.
 * 2. Declare it with `operation({...})`, here or in its own module, and add it to `OPERATIONS`
 *    below (a module of its own exports its operations and is spread into that list).
 * 3. Register it with `mount(scope, operation, handler)` (server.ts), which validates the query and
 *    body with the operation's schemas, hands the handler what they parsed, and sets the role the
 *    route needs. A route registered another way passes `operationConfig(operation)` as its config.
 * test/openapi.test.ts then checks that every route is in the document and the document's routes
 * all exist, and holds the answers of a real daemon against the schemas of their route and status.
 */
import type { z } from 'zod';
import { ERRORS, type ErrorCode } from '../errors.js';
import * as requests from './requests.js';
import { reviewQuerySchema, reviewResponseSchema } from './review-routes.js';
import * as responses from './responses.js';
import type { Role } from './roles.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The id of the route's operation (src/http/operations.ts). */
    operation?: string;
  }
}

/**
 * Who may call a route: `token`, an API token of at least `role` (src/http/roles.ts); `intake`, the
 * credentials of the connector named in the path; `metrics`, the metrics token when one is set;
 * `probe`, anyone, though an API token of any role is shown more; `public`, anyone.
 */
export type Access = { kind: 'token'; role: Role } | { kind: 'intake' } | { kind: 'metrics' } | { kind: 'probe' } | { kind: 'public' };

/** One answer of a route at one status: a JSON body (a schema registered in responses.ts) or other media. */
export interface Answer {
  description: string;
  json?: z.ZodType;
  /** Media type → what the body is, for a body that is not JSON. */
  media?: Record<string, string>;
  /** Header name → what it says. */
  headers?: Record<string, string>;
}

export const TAGS = {
  Nonconformities: 'the register of NCs: lists, one NC with its clause 10.2 record, the hash chain, and what people record on an NC',
  Symptoms: 'the same failure across time, and the fixes people record',
  Export: 'the register as an archive, for an auditor',
  'Dead letters': 'payloads that did not fit, run again',
  Console: 'the web console: pages for people, calling this API with the token they sign in with',
  Review: 'the management review: trends in NCs and corrective actions per control and month (ISO/IEC 27001 9.3, 10.1)',
  Intake: "alerts sent by the sources, each connector with its own route and credentials",
  Probes: 'metrics, liveness and readiness',
  'API description': 'this document and its reference page',
} as const;
export type Tag = keyof typeof TAGS;

/** The names in a path's `{…}` segments. */
type ParamsOf<Path extends string> = Path extends `${string}{${infer Name}}${infer Rest}` ? Name | ParamsOf<Rest> : never;

export interface Operation<Path extends string = string, Query extends z.ZodType = z.ZodType, Body extends z.ZodType = z.ZodType> {
  /** The OpenAPI operationId. */
  id: string;
  method: 'GET' | 'POST';
  /** As OpenAPI writes it: `/api/v1/nonconformities/{id}`. */
  path: Path;
  tag: Tag;
  summary: string;
  description?: string;
  access: Access;
  /** The path parameters, described; each is taken as text. */
  params?: z.ZodObject;
  query?: Query;
  /** A JSON body, validated; `what` names it in the error message. An empty body reads as `{}`. */
  body?: { schema: Body; what: string };
  /** A body the route takes as it comes (an intake), described. */
  rawBody?: string;
  /** The answers that are not errors, by status. */
  answers: Record<number, Answer>;
  /** The error codes it may answer with, beyond those every route of its access answers. */
  errors: readonly ErrorCode[];
}

export type AnyOperation = Operation<string, z.ZodType, z.ZodType>;

/** What `mount` hands a route's handler: its path parameters, and the query and body as parsed. */
export interface Parsed<Path extends string, Query extends z.ZodType, Body extends z.ZodType> {
  params: Record<ParamsOf<Path>, string>;
  query: [Query] extends [never] ? undefined : z.output<Query>;
  body: [Body] extends [never] ? undefined : z.output<Body>;
}

/** An operation, with its types kept for the handler `mount` registers for it. */
export function operation<const Path extends string, Query extends z.ZodType = never, Body extends z.ZodType = never>(
  declared: Operation<Path, Query, Body>,
): Operation<Path, Query, Body> {
  return declared;
}

/** The route options that tie a route to its operation, and give the role it needs. */
export function operationConfig(declared: Pick<AnyOperation, 'id' | 'access'>): { operation: string; role?: Role } {
  return declared.access.kind === 'token' ? { operation: declared.id, role: declared.access.role } : { operation: declared.id };
}

/** The path as Fastify writes it (`:id`), with the parameters named in `literal` filled in. */
export function fastifyUrl(path: string, literal: Record<string, string> = {}): string {
  return path.replace(/\{([^}]+)\}/g, (_segment, name: string) => literal[name] ?? `:${name}`);
}

/** The codes a route may answer with: its own, those of its access, and the internal error. */
export function errorCodesOf(declared: AnyOperation): Array<ErrorCode | 'INTERNAL'> {
  const codes = new Set<ErrorCode | 'INTERNAL'>(declared.errors);
  if (declared.access.kind === 'token') {
    codes.add('UNAUTHORIZED');
    if (declared.access.role !== 'read') codes.add('FORBIDDEN');
  }
  if (declared.access.kind === 'metrics') codes.add('UNAUTHORIZED');
  if (declared.query !== undefined || declared.body !== undefined) codes.add('REQUEST_INVALID');
  // Fastify checks the body limit of every route that takes a body, before its handler runs.
  if (declared.method === 'POST') codes.add('PAYLOAD_TOO_LARGE');
  codes.add('INTERNAL');
  return [...codes];
}

export function statusOf(code: ErrorCode | 'INTERNAL'): number {
  return code === 'INTERNAL' ? 500 : ERRORS[code].status;
}

const ncChange = ['NC_NOT_FOUND', 'NC_CLOSED', 'CONFLICT'] as const satisfies readonly ErrorCode[];
const disposition = ['NC_NOT_FOUND', 'NC_CLOSED', 'NC_VOID', 'NC_RISK_ACCEPTED', 'NC_VERIFYING', 'DATE_IN_PAST', 'CONFLICT'] as const satisfies readonly ErrorCode[];
const read: Access = { kind: 'token', role: 'read' };
const write: Access = { kind: 'token', role: 'write' };
const admin: Access = { kind: 'token', role: 'admin' };

/** An NC as it is after the change, with its tickets. */
const changedNc = (description: string): Answer => ({ description, json: responses.nonconformity });

export const operations = {
  listNonconformities: operation({
    id: 'listNonconformities',
    method: 'GET',
    path: '/api/v1/nonconformities',
    tag: 'Nonconformities',
    summary: 'A page of NCs, newest first',
    description: '`since` is on `openedAt`. Paging: pass `nextCursor` back as `cursor`, with the same filter, until it is null; a cursor this list did not return is refused naming `cursor`.',
    access: read,
    query: requests.listQuery,
    answers: { 200: { description: 'one page', json: responses.nonconformityPage } },
    errors: [],
  }),
  getNonconformity: operation({
    id: 'getNonconformity',
    method: 'GET',
    path: '/api/v1/nonconformities/{id}',
    tag: 'Nonconformities',
    summary: 'One NC, with its clause 10.2 record and its timeline',
    access: read,
    params: requests.ncParams,
    answers: { 200: { description: 'the NC', json: responses.nonconformityDetail } },
    errors: ['NC_NOT_FOUND'],
  }),
  verifyNonconformity: operation({
    id: 'verifyNonconformity',
    method: 'GET',
    path: '/api/v1/nonconformities/{id}/verify',
    tag: 'Nonconformities',
    summary: "Recomputes the NC's timeline hash chain",
    description: '200 whether or not the chain holds: `holds` says, and `failure` names the first entry that fails.',
    access: read,
    params: requests.ncParams,
    answers: { 200: { description: 'the verdict', json: responses.chainVerdict } },
    errors: ['NC_NOT_FOUND'],
  }),
  recordCorrectiveAction: operation({
    id: 'recordCorrectiveAction',
    method: 'POST',
    path: '/api/v1/nonconformities/{id}/corrective-action',
    tag: 'Nonconformities',
    summary: "Records and classifies a corrective action, and starts the NC's effectiveness window",
    description: 'A reopened NC needs a root-cause analysis first (422 naming what is missing); a due date in the past is refused naming `dueDate`.',
    access: write,
    params: requests.ncParams,
    body: { schema: requests.correctiveActionBody, what: 'corrective action' },
    answers: { 200: changedNc('the NC with its corrective action') },
    errors: [...ncChange, 'NC_VERIFYING', 'NC_VOID', 'NC_RISK_ACCEPTED', 'ROOT_CAUSE_ANALYSIS_REQUIRED', 'DATE_IN_PAST'],
  }),
  changeOwner: operation({
    id: 'changeOwner',
    method: 'POST',
    path: '/api/v1/nonconformities/{id}/owner',
    tag: 'Nonconformities',
    summary: "Who owns the NC's handling now",
    access: write,
    params: requests.ncParams,
    body: { schema: requests.ownerBody, what: 'owner' },
    answers: { 200: changedNc('the NC with its new owner') },
    errors: ncChange,
  }),
  changeDueDate: operation({
    id: 'changeDueDate',
    method: 'POST',
    path: '/api/v1/nonconformities/{id}/due-date',
    tag: 'Nonconformities',
    summary: 'When the corrective action is due now',
    access: write,
    params: requests.ncParams,
    body: { schema: requests.dueDateBody, what: 'due date' },
    answers: { 200: changedNc('the NC with its new due date') },
    errors: [...ncChange, 'DATE_IN_PAST'],
  }),
  addComment: operation({
    id: 'addComment',
    method: 'POST',
    path: '/api/v1/nonconformities/{id}/comments',
    tag: 'Nonconformities',
    summary: "A comment on the NC's record",
    description: 'A closed NC takes comments too.',
    access: write,
    params: requests.ncParams,
    body: { schema: requests.commentBody, what: 'comment' },
    answers: { 201: changedNc('the NC, counting the comment') },
    errors: ncChange,
  }),
  addAttachment: operation({
    id: 'addAttachment',
    method: 'POST',
    path: '/api/v1/nonconformities/{id}/attachments',
    tag: 'Nonconformities',
    summary: 'A reference to evidence kept elsewhere, with its SHA-256',
    description: 'recurd does not fetch it: the SHA-256, as the caller computed it, pins what it was. A closed NC takes attachments too.',
    access: write,
    params: requests.ncParams,
    body: { schema: requests.attachmentBody, what: 'attachment' },
    answers: { 201: changedNc('the NC, counting the attachment') },
    errors: ncChange,
  }),
  voidNonconformity: operation({
    id: 'voidNonconformity',
    method: 'POST',
    path: '/api/v1/nonconformities/{id}/void',
    tag: 'Nonconformities',
    summary: 'Declares the NC void: a false positive, a duplicate or test data',
    access: admin,
    params: requests.ncParams,
    body: { schema: requests.voidBody, what: 'void' },
    answers: { 200: changedNc('the void NC') },
    errors: disposition,
  }),
  acceptRisk: operation({
    id: 'acceptRisk',
    method: 'POST',
    path: '/api/v1/nonconformities/{id}/accept-risk',
    tag: 'Nonconformities',
    summary: "Accepts the NC's risk until a date, on an approver's word",
    description: 'Only an open or reopened NC; it returns to open when the acceptance expires.',
    access: admin,
    params: requests.ncParams,
    body: { schema: requests.acceptRiskBody, what: 'risk acceptance' },
    answers: { 200: changedNc('the NC with its risk accepted') },
    errors: disposition,
  }),
  listSymptoms: operation({
    id: 'listSymptoms',
    method: 'GET',
    path: '/api/v1/symptoms',
    tag: 'Symptoms',
    summary: 'A page of symptoms, the latest recurd first heard of first',
    access: read,
    query: requests.symptomQuery,
    answers: { 200: { description: 'one page', json: responses.symptomPage } },
    errors: [],
  }),
  getSymptom: operation({
    id: 'getSymptom',
    method: 'GET',
    path: '/api/v1/symptoms/{fingerprint}',
    tag: 'Symptoms',
    summary: 'One symptom, with its episodes, recent observations and the state of its NC',
    access: read,
    params: requests.symptomParams,
    answers: { 200: { description: 'the symptom', json: responses.symptomDetail } },
    errors: ['SYMPTOM_NOT_FOUND'],
  }),
  recordFix: operation({
    id: 'recordFix',
    method: 'POST',
    path: '/api/v1/symptoms/{fingerprint}/fix',
    tag: 'Symptoms',
    summary: 'A person records that a firing symptom is fixed; its window starts now',
    description: "Kept on the symptom (`lastFix`, with the token's name as `actor`) and on its NC's `fix-recorded` timeline entry.",
    access: write,
    params: requests.symptomParams,
    body: { schema: requests.fixBody, what: 'fix' },
    answers: { 200: { description: 'the symptom after the fix', json: responses.fixRecorded } },
    errors: ['SYMPTOM_NOT_FOUND', 'SYMPTOM_NOT_ACTIVE', 'CONFLICT'],
  }),
  exportRegister: operation({
    id: 'exportRegister',
    method: 'GET',
    path: '/api/v1/export',
    tag: 'Export',
    summary: 'The register as an archive, streamed',
    access: read,
    query: requests.exportQuery,
    answers: {
      200: {
        description: 'the archive (see the README, Export)',
        media: { 'application/zip': 'format=zip', 'application/gzip': 'format=tar.gz' },
        headers: { 'content-disposition': 'attachment; filename="recurd-export-<time>.<format>"' },
      },
    },
    errors: [],
  }),
  review: operation({
    id: 'review',
    method: 'GET',
    path: '/api/v1/review',
    tag: 'Review',
    summary: 'The management review of a period: per control and per month, NCs opened, reopened, verified effective and voided, and their corrective actions',
    description: 'As `recurd report` writes it (README, Management review); `format=html` gives the review as an HTML fragment, already escaped, for the console.',
    access: read,
    query: reviewQuerySchema,
    answers: {
      200: {
        description: 'the review',
        json: reviewResponseSchema,
        media: { 'text/html': 'format=html: the review as an HTML fragment (tables and SVG charts, no script, no inline style)' },
      },
    },
    errors: ['REQUEST_INVALID'],
  }),
  whoami: operation({
    id: 'whoami',
    method: 'GET',
    path: '/api/v1/whoami',
    tag: 'Nonconformities',
    summary: "The token's name and role: what the console shows, and what decides which forms it may use",
    access: read,
    answers: { 200: { description: 'who the token is', json: responses.identity } },
    errors: [],
  }),
  listDeadLetters: operation({
    id: 'listDeadLetters',
    method: 'GET',
    path: '/api/v1/dead-letters',
    tag: 'Dead letters',
    summary: 'The dead letters, newest first, without their bodies',
    access: read,
    query: requests.deadLetterQuery,
    answers: { 200: { description: 'the dead letters', json: responses.deadLetterList } },
    errors: [],
  }),
  getDeadLetter: operation({
    id: 'getDeadLetter',
    method: 'GET',
    path: '/api/v1/dead-letters/{id}',
    tag: 'Dead letters',
    summary: 'One dead letter with its body as received, as `recurd dlq show` prints it',
    access: read,
    params: requests.deadLetterIdParams,
    answers: { 200: { description: 'the dead letter', json: responses.deadLetter } },
    errors: ['NOT_FOUND'],
  }),
  consoleRoot: operation({
    id: 'consoleRoot',
    method: 'GET',
    path: '/ui',
    tag: 'Console',
    summary: 'Redirects to the console at /ui/',
    access: { kind: 'public' },
    answers: { 308: { description: 'to /ui/', headers: { location: '/ui/' } } },
    errors: [],
  }),
  consolePage: operation({
    id: 'consolePage',
    method: 'GET',
    path: '/ui/{path}',
    tag: 'Console',
    summary: "The console's page for any of its views, or one of its files",
    description: 'Any path below /ui/, of one segment or more (OpenAPI names only one): /ui/nc/NC-2026-0042 is the page of that NC. Holds no data: the page signs in with an API token and calls /api/v1. Served with a strict Content-Security-Policy; 404 for a file the console does not have, or when the console is not built.',
    access: { kind: 'public' },
    params: requests.consoleParams,
    answers: {
      200: { description: 'the page or file', media: { 'text/html': 'the page', 'text/javascript': 'a script of the console', 'text/css': 'its style sheet' } },
      304: { description: 'not modified (If-None-Match)' },
      404: { description: 'no such file, or the console is not built', media: { 'text/plain': 'what is missing' } },
    },
    errors: [],
  }),
  replayDeadLetter: operation({
    id: 'replayDeadLetter',
    method: 'POST',
    path: '/api/v1/dead-letters/{id}/replay',
    tag: 'Dead letters',
    summary: 'Runs a dead letter, or all of them, through its connector again',
    description: 'As `recurd dlq replay` does: an entry that now fits is queued and removed; one that still does not stays, with its problems.',
    access: admin,
    params: requests.deadLetterParams,
    answers: { 200: { description: 'what became of each entry', json: responses.replayed } },
    errors: ['NOT_FOUND', 'CONNECTOR_NOT_FOUND', 'REQUEST_INVALID'],
  }),
  intake: operation({
    id: 'intake',
    method: 'POST',
    path: '/hooks/{connector}',
    tag: 'Intake',
    summary: "A source's alerts, in the connector's own format",
    description:
      "Answered 202 only once the batch is stored, so a sender that sees an error can send again. Each connector has its own credentials (one of the intake security schemes), body limit and rate limit. A connector that does not exist is answered as wrong credentials are (401), so that connector names cannot be listed; so is any other path under /hooks/, except to a caller with the credentials of the connector it names, who is told that the connector does not take it (404).",
    access: { kind: 'intake' },
    params: requests.intakeParams,
    rawBody: "the payload of the connector's source (Alertmanager's webhook, a mapped JSON webhook, …), as it sends it",
    answers: { 202: { description: 'stored; items that did not fit are named and kept as a dead letter', json: responses.intakeAccepted } },
    errors: ['UNAUTHORIZED', 'PAYLOAD_INVALID', 'PAYLOAD_TOO_DEEP', 'PAYLOAD_TOO_MANY_ITEMS', 'PAYLOAD_UNPROCESSABLE', 'RATE_LIMITED', 'NOT_READY', 'REDIS_UNREACHABLE', 'ENQUEUE_FAILED'],
  }),
  heartbeat: operation({
    id: 'heartbeat',
    method: 'POST',
    path: '/hooks/{connector}/{job}/{event}',
    tag: 'Intake',
    summary: 'A heartbeat: a job started, succeeded or failed',
    description: 'For connectors of type heartbeat; the body may be empty, JSON or text. A caller with the credentials of a connector of another type is told that it does not take this path (404).',
    access: { kind: 'intake' },
    params: requests.heartbeatParams,
    rawBody: 'empty, or what the job says about its run',
    answers: { 202: { description: 'stored', json: responses.intakeAccepted } },
    errors: ['UNAUTHORIZED', 'NOT_FOUND', 'PAYLOAD_INVALID', 'PAYLOAD_TOO_DEEP', 'PAYLOAD_UNPROCESSABLE', 'RATE_LIMITED', 'NOT_READY', 'REDIS_UNREACHABLE', 'ENQUEUE_FAILED'],
  }),
  metrics: operation({
    id: 'metrics',
    method: 'GET',
    path: '/metrics',
    tag: 'Probes',
    summary: 'Prometheus metrics',
    description: 'With `http.metricsToken` set, only with `Authorization: Bearer <metricsToken>`.',
    access: { kind: 'metrics' },
    answers: { 200: { description: 'the metrics', media: { 'text/plain': 'the Prometheus text format' } } },
    errors: [],
  }),
  health: operation({
    id: 'health',
    method: 'GET',
    path: '/healthz',
    tag: 'Probes',
    summary: 'The process is alive',
    access: { kind: 'public' },
    answers: { 200: { description: 'alive', json: responses.health } },
    errors: [],
  }),
  readiness: operation({
    id: 'readiness',
    method: 'GET',
    path: '/readyz',
    tag: 'Probes',
    summary: 'Redis answers, workers run, intake open',
    description: "With an API token of any role, each connector's and notifier's last success and error as well.",
    access: { kind: 'probe' },
    answers: {
      200: { description: 'ready', json: responses.readiness },
      503: { description: 'not ready: `checks` names what fails', json: responses.readiness },
    },
    errors: [],
  }),
  openApiDocument: operation({
    id: 'openApiDocument',
    method: 'GET',
    path: '/api/v1/openapi.json',
    tag: 'API description',
    summary: 'This document: OpenAPI 3.1',
    access: { kind: 'public' },
    answers: { 200: { description: 'the document', json: responses.openApiDocumentSchema } },
    errors: [],
  }),
  apiReference: operation({
    id: 'apiReference',
    method: 'GET',
    path: '/api/v1/docs',
    tag: 'API description',
    summary: 'This document as a page to read',
    access: { kind: 'public' },
    answers: { 200: { description: 'the page', media: { 'text/html': 'the reference, without scripts' } } },
    errors: [],
  }),
};

/** Every operation the document describes; a module with routes of its own spreads its operations in here. */
export const OPERATIONS: readonly AnyOperation[] = Object.values(operations);
