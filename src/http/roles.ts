/**
 * Who may do what on /api/v1. Each API token has a name and a role; the roles are ranked, each
 * allowing what the ones below it allow:
 *
 * - read: lists and shows (every GET route);
 * - write: records what people do on an NC (corrective action, fix, owner, due date, comments,
 *   attachments);
 * - admin: also voids, accepts risk and replays dead letters.
 *
 * A route's operation (src/http/operations.ts) declares the role it needs, which `mount` puts in
 * the route's config. A route that declares none needs `read` for GET and HEAD and `write` for any
 * other method.
 *
 * The token's name is the actor recorded on the timeline entries a request writes.
 */
export const ROLES = ['read', 'write', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The caller of an API request, once its token is known. */
export interface ApiIdentity {
  /** The token's name: the actor on the timeline. */
  name: string;
  role: Role;
}

export interface ApiToken extends ApiIdentity {
  token: string;
}

/** The name the single `api.token` goes by, as an admin token. */
export const SINGLE_TOKEN_NAME = 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The role a route needs; see src/http/roles.ts. */
    role?: Role;
  }
  interface FastifyRequest {
    /** Who called /api/v1, set once the token is known and its role allows the route. */
    identity: ApiIdentity | null;
  }
}

/** The role a route needs: the one it declares, else read for GET and HEAD, write otherwise. */
export function roleNeeded(method: string, declared: Role | undefined): Role {
  if (declared !== undefined) return declared;
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}

export function allows(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

/** Every API token of the config: `api.tokens`, and `api.token` as an admin token named `admin`. */
export function apiTokens(api: { token?: string | undefined; tokens?: ApiToken[] | undefined }): ApiToken[] {
  const single = api.token === undefined ? [] : [{ name: SINGLE_TOKEN_NAME, token: api.token, role: 'admin' as const }];
  return [...single, ...(api.tokens ?? [])];
}
