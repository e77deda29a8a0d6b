/**
 * The reference page of /api/v1/docs: the OpenAPI document rendered as HTML on the server, once.
 * No script and nothing fetched: the page loads nothing but itself, so its Content-Security-Policy
 * can forbid everything except its own stylesheet (by hash), and it works offline and in the
 * Docker image as it is. Every text from the document is escaped.
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type { OpenApiDocument, OperationObject, ParameterObject, ResponseObject } from './openapi.js';

type JsonSchema = z.core.JSONSchema.BaseSchema;

const STYLE = `
body { font: 15px/1.5 system-ui, sans-serif; color: #1d1d1f; max-width: 70rem; margin: 0 auto; padding: 1rem 2rem 4rem; }
h1 { margin-bottom: 0; } h2 { border-bottom: 1px solid #ccc; margin-top: 2.5rem; } h3 { margin: 0; font-size: 1.05rem; }
code { font: 0.9em ui-monospace, monospace; background: #f2f2f4; padding: 0 0.25em; border-radius: 3px; }
section.operation { border: 1px solid #ddd; border-radius: 6px; padding: 0.75rem 1rem; margin: 1rem 0; }
.method { display: inline-block; min-width: 3.5em; font-weight: 700; color: #fff; background: #0b6bcb; border-radius: 3px; padding: 0 0.4em; text-align: center; }
.method.post { background: #1a7f37; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0; } td, th { border: 1px solid #e3e3e6; padding: 0.2rem 0.5rem; vertical-align: top; text-align: left; }
th { background: #f7f7f8; font-weight: 600; } td table { margin: 0.25rem 0 0; } .required { color: #b3261e; font-size: 0.85em; }
nav ul { columns: 2; } .muted { color: #666; }
`;

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The document's prose: escaped, with `code` spans kept. */
function prose(text: string): string {
  return escape(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

function componentName(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1);
}

/** The bounds that say nothing: zod writes the safe-integer range on every integer. */
const UNBOUNDED = Number.MAX_SAFE_INTEGER;

/** A schema in a few words: its type, format, bounds, values, default. */
function typeOf(schema: JsonSchema): string {
  if (typeof schema.$ref === 'string') {
    const name = componentName(schema.$ref);
    return `<a href="#schema-${escape(name)}">${escape(name)}</a>`;
  }
  const union = schema.anyOf ?? schema.oneOf;
  if (union !== undefined) return union.map((member) => typeOf(member)).join(' or ');
  const parts: string[] = [];
  if (schema.const !== undefined) parts.push(`<code>${escape(JSON.stringify(schema.const))}</code>`);
  else if (schema.enum !== undefined) parts.push(`one of ${schema.enum.map((value) => `<code>${escape(JSON.stringify(value))}</code>`).join(', ')}`);
  else if (schema.type === 'array') parts.push(`array of ${schema.items === undefined ? 'any value' : typeOf(schema.items as JsonSchema)}`);
  else if (schema.type === 'object' && schema.properties === undefined && typeof schema.additionalProperties === 'object') {
    parts.push(`map of names to ${typeOf(schema.additionalProperties)}`);
  } else if (Array.isArray(schema.type)) parts.push(schema.type.map((type) => escape(type)).join(' or '));
  else if (schema.type !== undefined) parts.push(escape(schema.type));
  else parts.push('any value');
  if (schema.format !== undefined) parts.push(`(${escape(schema.format)})`);
  else if (schema.pattern !== undefined) parts.push(`matching <code>${escape(schema.pattern)}</code>`);
  if (schema.minimum !== undefined && schema.minimum !== -UNBOUNDED) parts.push(`≥ ${schema.minimum}`);
  if (schema.maximum !== undefined && schema.maximum !== UNBOUNDED) parts.push(`≤ ${schema.maximum}`);
  if (schema.minLength === 1) parts.push('not empty');
  else if (schema.minLength !== undefined && schema.minLength > 1) parts.push(`at least ${schema.minLength} characters`);
  if (schema.maxLength !== undefined) parts.push(`at most ${schema.maxLength} characters`);
  if (schema.maxItems !== undefined) parts.push(`at most ${schema.maxItems} items`);
  if (schema.default !== undefined) parts.push(`default <code>${escape(JSON.stringify(schema.default))}</code>`);
  return parts.join(' ');
}

/** An object's fields as a table, nested objects within; any other schema in a few words. */
function schemaBlock(schema: JsonSchema, depth = 0): string {
  const description = schema.description === undefined ? '' : `<p>${prose(schema.description)}</p>`;
  const object = objectOf(schema);
  if (object?.properties === undefined || depth > 6) return `${description}<p>${typeOf(schema)}</p>`;
  const required = new Set(object.required ?? []);
  const rows = Object.entries(object.properties).map(([name, value]) => {
    const field = value as JsonSchema;
    const nested = objectOf(field)?.properties !== undefined && field.$ref === undefined ? schemaBlock({ ...objectOf(field), description: undefined }, depth + 1) : '';
    const note = field.description === undefined ? '' : prose(field.description);
    return `<tr><td><code>${escape(name)}</code>${required.has(name) ? ' <span class="required">required</span>' : ''}</td><td>${typeOf(field)}</td><td>${note}${nested}</td></tr>`;
  });
  return `${description}<table><tr><th>field</th><th>type</th><th>description</th></tr>${rows.join('')}</table>`;
}

/** The object a schema holds inline: itself, the items of an array, or the object member of a nullable union. */
function objectOf(schema: JsonSchema): JsonSchema | undefined {
  if (schema.properties !== undefined) return schema;
  if (schema.type === 'array' && schema.items !== undefined && !Array.isArray(schema.items)) return objectOf(schema.items as JsonSchema);
  const union = schema.anyOf ?? schema.oneOf;
  const objects = union?.map(objectOf).filter((member) => member !== undefined) ?? [];
  return objects.length === 1 ? objects[0] : undefined;
}

function parametersTable(parameters: ParameterObject[]): string {
  const rows = parameters.map(
    (parameter) =>
      `<tr><td><code>${escape(parameter.name)}</code>${parameter.required ? ' <span class="required">required</span>' : ''}</td><td>${parameter.in}</td><td>${typeOf(parameter.schema)}</td><td>${parameter.description === undefined ? '' : prose(parameter.description)}</td></tr>`,
  );
  return `<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th>description</th></tr>${rows.join('')}</table>`;
}

function isErrorEnvelope(schema: JsonSchema): boolean {
  const code = (schema.properties?.error as JsonSchema | undefined)?.properties?.code as JsonSchema | undefined;
  return code?.enum !== undefined;
}

function responseRow(status: string, response: ResponseObject): string {
  const media = Object.entries(response.content ?? {});
  const bodies = media.map(([type, { schema }]) => {
    if (schema === undefined) return `<code>${escape(type)}</code>`;
    // The error envelope is the same on every answer but its codes, which the meaning lists.
    if (isErrorEnvelope(schema)) return `<code>${escape(type)}</code> <code>{"error": {"code", "message", "details"?}}</code>`;
    return `<code>${escape(type)}</code> ${schema.$ref === undefined ? schemaBlock(schema) : typeOf(schema)}`;
  });
  const headers = Object.entries(response.headers ?? {}).map(([name, header]) => `<p>header <code>${escape(name)}</code>: ${prose(header.description)}</p>`);
  return `<tr><td>${escape(status)}</td><td>${prose(response.description)}${headers.join('')}</td><td>${bodies.join('<br>')}</td></tr>`;
}

function operationSection(method: string, path: string, operation: OperationObject): string {
  const parts = [
    `<section class="operation" id="op-${escape(operation.operationId)}">`,
    `<h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${escape(path)}</code></h3>`,
    `<p>${prose(operation.summary)}</p>`,
    ...operation.description.split('\n\n').map((paragraph) => `<p>${prose(paragraph)}</p>`),
  ];
  if (operation.parameters !== undefined) parts.push(parametersTable(operation.parameters));
  if (operation.requestBody !== undefined) {
    const { required, description, content } = operation.requestBody;
    parts.push(`<h4>Body${required ? '' : ' <span class="muted">(optional)</span>'}</h4>`);
    if (description !== undefined) parts.push(`<p>${prose(description)}</p>`);
    for (const [type, { schema }] of Object.entries(content)) parts.push(`<p><code>${escape(type)}</code></p>${schema === undefined ? '' : schemaBlock(schema)}`);
  }
  const responses = Object.entries(operation.responses).map(([status, response]) => responseRow(status, response));
  parts.push(`<h4>Answers</h4><table><tr><th>status</th><th>meaning</th><th>body</th></tr>${responses.join('')}</table>`, '</section>');
  return parts.join('\n');
}

function page(document: OpenApiDocument): string {
  const operations = Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item).map(([method, operation]) => ({ path, method, operation })));
  const byTag = document.tags.map((tag) => ({ tag, operations: operations.filter(({ operation }) => operation.tags.includes(tag.name)) }));
  const contents = byTag.flatMap(({ operations: listed }) =>
    listed.map(({ path, method, operation }) => `<li><a href="#op-${escape(operation.operationId)}">${method.toUpperCase()} ${escape(path)}</a> <span class="muted">${prose(operation.summary)}</span></li>`),
  );
  const schemes = Object.entries(document.components.securitySchemes).map(
    ([name, scheme]) => `<tr><td><code>${escape(name)}</code></td><td>${escape(scheme.type)} ${escape(scheme.scheme ?? `header ${scheme.name ?? ''}`)}</td><td>${prose(scheme.description)}</td></tr>`,
  );
  const sections = byTag.map(
    ({ tag, operations: listed }) =>
      `<h2 id="tag-${tag.name.replace(/[^A-Za-z0-9]+/g, '-')}">${escape(tag.name)}</h2><p>${prose(tag.description)}</p>${listed.map(({ path, method, operation }) => operationSection(method, path, operation)).join('\n')}`,
  );
  const schemas = Object.entries(document.components.schemas).map(([name, schema]) => `<section id="schema-${escape(name)}"><h3>${escape(name)}</h3>${schemaBlock(schema)}</section>`);
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escape(document.info.title)} API reference</title><style>${STYLE}</style></head><body>`,
    `<h1>${escape(document.info.title)} API</h1><p class="muted">OpenAPI ${escape(document.openapi)}, API version ${escape(document.info.version)}: <a href="openapi.json">openapi.json</a></p>`,
    `<p>${prose(document.info.description)}</p>`,
    `<nav><ul>${contents.join('')}</ul></nav>`,
    `<h2 id="security">Credentials</h2><table><tr><th>scheme</th><th>kind</th><th>description</th></tr>${schemes.join('')}</table>`,
    ...sections,
    '<h2 id="schemas">Schemas</h2>',
    ...schemas,
    '</body></html>',
  ].join('\n');
}

/** The page, and the Content-Security-Policy that lets it apply its own stylesheet and nothing else. */
export function referencePage(document: OpenApiDocument): { html: string; contentSecurityPolicy: string } {
  const styleHash = createHash('sha256').update(STYLE, 'utf8').digest('base64');
  return {
    html: page(document),
    contentSecurityPolicy: `default-src 'none'; style-src 'sha256-${styleHash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  };
}
