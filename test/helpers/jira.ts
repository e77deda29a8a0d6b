/**
 * A Jira site on loopback, Cloud (REST v3) or Data Center (REST v2), for the jira notifier and the
 * Jira intake. Each route checks the request against the body Atlassian documents for it (Cloud:
 * the REST v3 reference and the Atlassian Document Format's structure; Data Center: the REST v2
 * reference) and answers with bodies from test/fixtures/jira (SOURCES.md says where each is from).
 * It keeps the issues it created, their comments, links and status, so that a status read back
 * follows the transitions taken: only ids, keys and the status in those bodies change.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { startVendorApi, type VendorApi, type VendorRequest, type VendorRoute } from './vendor-api.js';

function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/jira/${name}`, import.meta.url), 'utf8')) as T;
}

type Status = { name: string; statusCategory: { key: string } } & Record<string, unknown>;
type Transition = { id: string; name: string; to?: { name: string } };

export const STATUSES = fixture<Status[]>('sentry-get-statuses-200.json');
export const TRANSITIONS = fixture<{ transitions: Transition[] }>('sentry-get-transitions-200.json');

// ADF as https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/ defines the
// nodes recurd writes: a doc of paragraphs of non-empty text nodes, marked strong or as a link.
const mark = z.discriminatedUnion('type', [
  z.object({ type: z.literal('strong') }).strict(),
  z.object({ type: z.literal('link'), attrs: z.object({ href: z.string().min(1) }).strict() }).strict(),
]);
const textNode = z.object({ type: z.literal('text'), text: z.string().min(1), marks: z.array(mark).optional() }).strict();
const paragraph = z.object({ type: z.literal('paragraph'), content: z.array(textNode).optional() }).strict();
export const adfDoc = z.object({ type: z.literal('doc'), version: z.literal(1), content: z.array(paragraph) }).strict();

const byName = z.object({ name: z.string().min(1) }).strict();
const byKey = z.object({ key: z.string().min(1) }).strict();
const label = z.string().regex(/^\S+$/, 'labels cannot contain spaces');

function createBody(text: z.ZodType) {
  return z
    .object({
      fields: z
        .looseObject({
          project: byKey,
          summary: z.string().min(1).max(255).regex(/^[^\n]*$/, 'one line'),
          issuetype: byName,
          description: text.optional(),
          priority: byName.optional(),
          labels: z.array(label).optional(),
        }),
      update: z.record(z.string(), z.unknown()).optional(),
    })
    .strict();
}

const commentBody = (text: z.ZodType) => z.object({ body: text, visibility: z.object({ type: z.enum(['group', 'role']), value: z.string() }).optional() }).strict();
const transitionBody = z.object({ transition: z.object({ id: z.string().min(1) }).strict(), fields: z.record(z.string(), z.unknown()).optional(), update: z.record(z.string(), z.unknown()).optional() }).strict();
const linkBody = z.object({ type: byName, inwardIssue: byKey, outwardIssue: byKey, comment: z.unknown().optional() }).strict();

export interface JiraIssue {
  key: string;
  fields: Record<string, unknown>;
  status: string;
  comments: unknown[];
}

export interface FakeJira extends VendorApi {
  deployment: 'cloud' | 'datacenter';
  issues: Map<string, JiraIssue>;
  links: Array<{ type: string; inward: string; outward: string }>;
  /** A person moving the issue in Jira, which recurd learns from the webhook. */
  setStatus(key: string, status: string): void;
  /** The comments of an issue as plain text (ADF text nodes joined, or the wiki string). */
  commentTexts(key: string): string[];
  /** The route pattern of an endpoint, for `queue` and `to`: `POST /issue`. */
  route(method: string, endpoint: string): string;
}

export function adfText(doc: unknown): string {
  const parsed = adfDoc.parse(doc);
  return parsed.content.map((block) => (block.content ?? []).map((node) => node.text).join('')).join('\n');
}

export async function startJira(deployment: 'cloud' | 'datacenter', credentials: { email: string; apiToken: string } | { token: string }): Promise<FakeJira> {
  const cloud = deployment === 'cloud';
  const api = `/rest/api/${cloud ? 3 : 2}`;
  const text: z.ZodType = cloud ? adfDoc : z.string().min(1);
  const authorization = 'token' in credentials ? `Bearer ${credentials.token}` : `Basic ${Buffer.from(`${credentials.email}:${credentials.apiToken}`).toString('base64')}`;
  const issues = new Map<string, JiraIssue>();
  const links: FakeJira['links'] = [];
  let next = 1;
  const signedIn = (request: VendorRequest): string | null => (request.headers.authorization === authorization ? null : `wrong Authorization header: ${String(request.headers.authorization)}`);
  const json = (request: VendorRequest): string | null => signedIn(request) ?? (String(request.headers['content-type']).startsWith('application/json') ? null : 'Content-Type is not application/json');
  const known = (request: VendorRequest) => issues.get(request.params.key ?? '');
  const missing = { status: 404 };
  const created = cloud ? fixture('cloud-v3-create-issue-201.json') : fixture('dc-v2-create-issue-201.json');
  const comment = cloud ? fixture('cloud-v3-add-comment-201.json') : fixture('dc-v2-add-comment-201.json');
  const search = cloud ? fixture<{ issues: Array<Record<string, unknown>> }>('cloud-v3-search-jql-200.json') : fixture<{ issues: Array<Record<string, unknown>> }>('sentry-search-200.json');
  const issue = fixture<{ fields: Record<string, unknown> }>('sentry-get-issue-200.json');

  const routes: VendorRoute[] = [
    {
      method: 'POST',
      path: `${api}/issue`,
      body: createBody(text),
      check: json,
      answer: (request) => {
        const { fields } = request.json as { fields: Record<string, unknown> & { project: { key: string } } };
        const id = String(10_000 + next);
        const key = `${fields.project.key}-${next++}`;
        issues.set(key, { key, fields, status: 'To Do', comments: [] });
        return { status: 201, body: { ...created, id, key, self: `${api}/issue/${id}` } };
      },
    },
    {
      method: 'GET',
      path: `${api}/${cloud ? 'search/jql' : 'search'}`,
      check: (request) => signedIn(request) ?? (request.query.get('jql') ? null : 'no jql parameter'),
      answer: (request) => {
        const wanted = /labels = "([^"]+)"/.exec(request.query.get('jql') ?? '')?.[1];
        const found = [...issues.values()].filter((candidate) => ((candidate.fields.labels as string[] | undefined) ?? []).includes(wanted ?? ''));
        const [first] = search.issues;
        return { status: 200, body: { ...search, issues: found.map((candidate) => ({ ...first, key: candidate.key })), ...(cloud ? {} : { total: found.length }) } };
      },
    },
    {
      method: 'POST',
      path: `${api}/issue/:key/comment`,
      body: commentBody(text),
      check: json,
      answer: (request) => {
        const target = known(request);
        if (target === undefined) return missing;
        target.comments.push((request.json as { body: unknown }).body);
        return { status: 201, body: comment };
      },
    },
    {
      method: 'GET',
      path: `${api}/issue/:key`,
      check: signedIn,
      answer: (request) => {
        const target = known(request);
        if (target === undefined) return missing;
        const status = STATUSES.find((candidate) => candidate.name === target.status);
        return { status: 200, body: { ...issue, key: target.key, fields: { ...issue.fields, status } } };
      },
    },
    {
      method: 'GET',
      path: `${api}/issue/:key/transitions`,
      check: signedIn,
      answer: (request) => (known(request) === undefined ? missing : { status: 200, body: TRANSITIONS }),
    },
    {
      method: 'POST',
      path: `${api}/issue/:key/transitions`,
      body: transitionBody,
      check: json,
      answer: (request) => {
        const target = known(request);
        if (target === undefined) return missing;
        const wanted = TRANSITIONS.transitions.find((transition) => transition.id === (request.json as { transition: { id: string } }).transition.id);
        if (wanted === undefined) return { status: 400 };
        if (wanted.to !== undefined) target.status = wanted.to.name;
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: `${api}/issueLink`,
      body: linkBody,
      check: json,
      answer: (request) => {
        const body = request.json as z.output<typeof linkBody>;
        if (!issues.has(body.inwardIssue.key) || !issues.has(body.outwardIssue.key)) return missing;
        links.push({ type: body.type.name, inward: body.inwardIssue.key, outward: body.outwardIssue.key });
        return { status: 201 };
      },
    },
  ];
  const vendor = await startVendorApi(`Jira ${deployment}`, routes);
  return Object.assign(vendor, {
    deployment,
    issues,
    links,
    setStatus(key: string, status: string) {
      const target = issues.get(key);
      if (target === undefined) throw new Error(`the loopback Jira has no issue ${key}`);
      target.status = status;
    },
    commentTexts(key: string): string[] {
      return (issues.get(key)?.comments ?? []).map((body) => (cloud ? adfText(body) : (body as string)));
    },
    route: (method: string, endpoint: string) => `${method} ${api}${endpoint}`,
  });
}
