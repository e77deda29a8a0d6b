/**
 * CISO Assistant's findings API on loopback. The request shape is read from CISO Assistant's own
 * code (test/fixtures/ciso-assistant/finding-model.trimmed.py): the fields of the Finding model and
 * its mixins less what FindingWriteSerializer excludes, each with its type, choices, max_length and
 * null; unknown fields, which DRF would drop without a word, count as problems too. Authentication
 * is knox's `Authorization: Token`. Answers are the serializers' representations (fixtures built
 * from them) and DRF's error bodies.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { startVendorApi, type VendorAnswer, type VendorApi, type VendorRequest } from './vendor-api.js';

const read = (name: string): string => readFileSync(new URL(`../fixtures/ciso-assistant/${name}`, import.meta.url), 'utf8');
export const cisoFixture = (name: string): unknown => JSON.parse(read(name));

interface ModelField {
  type: string;
  nullable: boolean;
  maxLength: number | null;
  choices: Array<string | number> | null;
}

/** The Finding's fields as its model code declares them (class bodies at four spaces of indent). */
export function findingModel(source = read('finding-model.trimmed.py')): { fields: Map<string, ModelField>; excluded: string[]; statuses: string[]; severities: number[]; priorities: number[] } {
  const block = (header: string): string => {
    const start = source.indexOf(header);
    if (start < 0) throw new Error(`${header} is not in the model fixture`);
    const rest = source.slice(start + header.length);
    const end = rest.search(/\n(?=\S)/);
    return end < 0 ? rest : rest.slice(0, end);
  };
  const statuses = [...block('    class Status(models.TextChoices):').matchAll(/^ {8}\w+ = "([^"]+)", _\(/gm)].map((match) => match[1] as string);
  const severities = [...block('class Severity(models.IntegerChoices):').matchAll(/^ {4}\w+ = (-?\d+), "/gm)].map((match) => Number(match[1]));
  const priorities = [...block('    PRIORITY = [').matchAll(/\((\d+), _\("P\d"\)\)/g)].map((match) => Number(match[1]));
  const fields = new Map<string, ModelField>();
  // A declaration on one line, or opened on one and closed by a line of its own.
  for (const match of source.matchAll(/^ {4}(\w+) = models\.(\w+)\((.*)\)$|^ {4}(\w+) = models\.(\w+)\(\n([\s\S]*?)^ {4}\)$/gm)) {
    const name = (match[1] ?? match[4]) as string;
    const type = (match[2] ?? match[5]) as string;
    const args = (match[3] ?? match[6]) as string;
    const maxLength = /max_length=(\d+)/.exec(args);
    const choices = /choices=(\w+(?:\.\w+)?)/.exec(args)?.[1];
    fields.set(name, {
      type,
      nullable: /null=True/.test(args),
      maxLength: maxLength === null ? null : Number(maxLength[1]),
      choices: choices === undefined ? null : choices === 'PRIORITY' ? priorities : choices === 'Severity.choices' ? severities : statuses,
    });
  }
  const excluded = [...(/exclude = \[([^\]]*)\]/.exec(block('class FindingWriteSerializer('))?.[1] ?? '').matchAll(/"(\w+)"/g)].map((match) => match[1] as string);
  return { fields, excluded, statuses, severities, priorities };
}

/** A zod schema of what FindingWriteSerializer accepts, field by field as DRF maps the model. */
function writeSchema(partial: boolean): z.ZodType {
  const model = findingModel();
  const shape: Record<string, z.ZodType> = {};
  for (const [name, field] of model.fields) {
    // The primary key is not editable; excluded fields are not in the serializer.
    if (name === 'id' || model.excluded.includes(name)) continue;
    let value: z.ZodType;
    if (field.choices !== null) value = z.union(field.choices.map((choice) => z.literal(choice)) as unknown as [z.ZodLiteral, z.ZodLiteral, ...z.ZodLiteral[]]);
    else if (field.type === 'CharField' || field.type === 'TextField') value = field.maxLength === null ? z.string() : z.string().max(field.maxLength);
    else if (field.type === 'DateField') value = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');
    else if (field.type === 'ForeignKey') value = z.uuid();
    else if (field.type === 'ManyToManyField') value = z.array(z.uuid());
    else if (field.type === 'BooleanField') value = z.boolean();
    else throw new Error(`the fake has no mapping for ${field.type} (${name})`);
    if (field.nullable) value = value.nullable();
    // A field with a default, null or blank=True, or any field of a PATCH, may be left out.
    const required = !partial && (name === 'name' || name === 'findings_assessment');
    shape[name] = required ? value : value.optional();
  }
  return z.object(shape).strict();
}

export interface CisoFinding extends Record<string, unknown> {
  id: string;
  name: string;
  ref_id: string;
  findings_assessment: string;
  status: string;
  severity: number;
  priority: number | null;
  owner: string[];
  description: string | null;
  observation: string | null;
  due_date: string | null;
}

export interface CisoAssistantApi extends VendorApi {
  token: string;
  findingsAssessment: string;
  actors: { ops: string; ciso: string };
  findings: Map<string, CisoFinding>;
  /** Lock the follow-up, as an auditor does once it is reviewed: findings in it can no longer change. */
  lock(): void;
  /** The next POST is stored but answered 504, as a proxy that gave up waiting does: a create whose answer was lost. */
  loseNextCreateAnswer(): void;
}

/** A knox token: 64 hexadecimal characters (REST_KNOX AUTH_TOKEN_CHARACTER_LENGTH). */
export function knoxToken(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

export async function startCisoAssistantApi(): Promise<CisoAssistantApi> {
  const token = knoxToken();
  const findingsAssessment = randomUUID();
  const actors: { ops: string; ciso: string } = { ops: randomUUID(), ciso: randomUUID() };
  const findings = new Map<string, CisoFinding>();
  let locked = false;
  let loseCreate = false;
  const created = cisoFixture('finding-created.201.json') as Record<string, unknown>;
  const listed = cisoFixture('findings-list.200.json') as { results: Array<Record<string, unknown>> };

  /** FindingWriteSerializer's representation: the fixture's fields, in its order, with this finding's values. */
  const writeView = (finding: CisoFinding): Record<string, unknown> => Object.fromEntries(Object.keys(created).map((key) => [key, finding[key] ?? created[key]]));

  /** FindingReadSerializer's, as the list shows it. */
  function readView(finding: CisoFinding): Record<string, unknown> {
    const template = listed.results[0] as Record<string, unknown>;
    const labels: Record<number, string> = { [-1]: 'undefined', 0: 'info', 1: 'low', 2: 'medium', 3: 'high', 4: 'critical' };
    const related = { owner: finding.owner.map((id) => ({ str: id === actors.ops ? 'ops@example.org' : 'ciso@example.org', id })) };
    return Object.fromEntries(
      Object.keys(template).map((key) => {
        if (key in related) return [key, related[key as keyof typeof related]];
        if (key === 'findings_assessment') return [key, { ...(template[key] as object), id: finding.findings_assessment, is_locked: locked }];
        if (key === 'severity') return [key, labels[finding.severity]];
        if (key === 'priority') return [key, finding.priority === null ? null : `P${finding.priority}`];
        return [key, key in finding ? finding[key] : template[key]];
      }),
    );
  }

  const authenticated = (request: VendorRequest): VendorAnswer | null => {
    const header = request.headers.authorization;
    if (header === undefined) return { status: 401, headers: { 'www-authenticate': 'Token' }, body: { detail: 'Authentication credentials were not provided.' } };
    if (header !== `Token ${token}`) return { status: 401, headers: { 'www-authenticate': 'Token' }, body: cisoFixture('error-invalid-token.401.json') };
    return null;
  };

  /** DRF's PrimaryKeyRelatedField: an id that is no actor or follow-up is refused with the field named. */
  function unknownRelation(body: Record<string, unknown>): VendorAnswer | null {
    const owners = (body.owner as string[] | undefined) ?? [];
    const stranger = owners.find((id) => !Object.values(actors).includes(id));
    if (stranger !== undefined) return { status: 400, body: { owner: [`Invalid pk "${stranger}" - object does not exist.`] } };
    if (body.findings_assessment !== undefined && body.findings_assessment !== findingsAssessment)
      return { status: 400, body: { findings_assessment: [`Invalid pk "${body.findings_assessment as string}" - object does not exist.`] } };
    return null;
  }

  const checkHeaders = (request: VendorRequest): string | null =>
    request.method !== 'GET' && request.headers['content-type'] !== 'application/json' ? `content-type is ${String(request.headers['content-type'])}, not application/json` : null;

  const api = await startVendorApi('CISO Assistant', [
    {
      method: 'GET',
      path: '/api/findings/',
      check: (request) => {
        const unknown = [...request.query.keys()].filter((key) => !['findings_assessment', 'search', 'limit', 'offset', 'ordering'].includes(key));
        return unknown.length === 0 ? null : `GET /api/findings/ filters on ${unknown.join(', ')}, which FindingViewSet does not offer`;
      },
      answer: (request) => {
        const refused = authenticated(request);
        if (refused !== null) return refused;
        const assessment = request.query.get('findings_assessment');
        const search = (request.query.get('search') ?? '').toLowerCase();
        // SearchFilter on name and description, icontains.
        const results = [...findings.values()]
          .filter((finding) => assessment === null || finding.findings_assessment === assessment)
          .filter((finding) => search === '' || `${finding.name}\n${finding.description ?? ''}`.toLowerCase().includes(search))
          .map(readView);
        return { status: 200, body: { count: results.length, next: null, previous: null, results } };
      },
    },
    {
      method: 'POST',
      path: '/api/findings/',
      body: writeSchema(false),
      check: checkHeaders,
      answer: (request) => {
        const refused = authenticated(request);
        if (refused !== null) return refused;
        const body = request.json as Record<string, unknown>;
        const wrong = unknownRelation(body);
        if (wrong !== null) return wrong;
        const finding: CisoFinding = {
          ...Object.fromEntries(Object.keys(created).map((key) => [key, Array.isArray(created[key]) ? [] : null])),
          is_published: false,
          ref_id: '',
          status: '--',
          severity: -1,
          ...body,
          owner: (body.owner as string[] | undefined) ?? [],
          id: randomUUID(),
        } as unknown as CisoFinding;
        findings.set(finding.id, finding);
        if (loseCreate) {
          loseCreate = false;
          return { status: 504, body: 'upstream request timeout' };
        }
        return { status: 201, body: writeView(finding) };
      },
    },
    {
      method: 'PATCH',
      path: '/api/findings/:id/',
      body: writeSchema(true),
      check: checkHeaders,
      answer: (request) => {
        const refused = authenticated(request);
        if (refused !== null) return refused;
        const finding = findings.get(request.params.id ?? '');
        if (finding === undefined) return { status: 404, body: cisoFixture('error-not-found.404.json') };
        if (locked) return { status: 400, body: cisoFixture('error-locked.400.json') };
        const body = request.json as Record<string, unknown>;
        const wrong = unknownRelation(body);
        if (wrong !== null) return wrong;
        Object.assign(finding, body);
        return { status: 200, body: writeView(finding) };
      },
    },
  ]);
  return Object.assign(api, {
    token,
    findingsAssessment,
    actors,
    findings,
    lock: () => {
      locked = true;
    },
    loseNextCreateAnswer: () => {
      loseCreate = true;
    },
  });
}
