/**
 * The error catalogue: one code per failure that users meet, shared by the API, the CLI and the
 * logs, each with the HTTP status the API answers with and whether retrying can help.
 */
export const ERRORS = {
  CONFIG_INVALID: { status: 500, retryable: false, title: 'the configuration is invalid' },
  REDIS_UNREACHABLE: { status: 503, retryable: true, title: 'Redis cannot be reached' },
  REDIS_MISCONFIGURED: { status: 500, retryable: false, title: 'Redis is configured in a way recurd cannot work with' },
  UNAUTHORIZED: { status: 401, retryable: false, title: 'missing or wrong credentials' },
  FORBIDDEN: { status: 403, retryable: false, title: "the token's role may not do this" },
  RATE_LIMITED: { status: 429, retryable: true, title: 'too many requests from this address; Retry-After says when to send again' },
  CONNECTOR_NOT_FOUND: { status: 404, retryable: false, title: 'no such connector' },
  PAYLOAD_INVALID: { status: 400, retryable: false, title: 'the payload does not fit' },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false, title: 'the request body is too large' },
  PAYLOAD_TOO_DEEP: { status: 400, retryable: false, title: 'the request body is nested too deep' },
  PAYLOAD_TOO_MANY_ITEMS: { status: 413, retryable: false, title: 'the request body has too many items' },
  PAYLOAD_UNPROCESSABLE: { status: 422, retryable: false, title: 'the payload fitted but could not be queued; it is kept as a dead letter' },
  REQUEST_INVALID: { status: 400, retryable: false, title: 'the request is invalid' },
  NC_NOT_FOUND: { status: 404, retryable: false, title: 'no such nonconformity' },
  NC_CLOSED: { status: 409, retryable: false, title: 'the nonconformity is closed' },
  NC_VERIFYING: { status: 409, retryable: false, title: 'the nonconformity is already verifying a corrective action' },
  NC_VOID: { status: 409, retryable: false, title: 'the nonconformity is void' },
  NC_RISK_ACCEPTED: { status: 409, retryable: false, title: 'the risk of the nonconformity is accepted' },
  DATE_IN_PAST: { status: 422, retryable: false, title: 'a date that must lie ahead is in the past' },
  SYMPTOM_NOT_FOUND: { status: 404, retryable: false, title: 'no such symptom' },
  SYMPTOM_NOT_ACTIVE: { status: 409, retryable: false, title: 'the symptom is not firing' },
  CONFLICT: { status: 503, retryable: true, title: 'the symptom kept changing under concurrent writers' },
  ENQUEUE_FAILED: { status: 503, retryable: true, title: 'the batch could not be stored durably' },
  NOT_READY: { status: 503, retryable: true, title: 'recurd is not ready' },
  NOT_FOUND: { status: 404, retryable: false, title: 'no such entry' },
  DELIVERY_NOT_FOUND: { status: 404, retryable: false, title: 'no such failed delivery' },
  ROOT_CAUSE_ANALYSIS_REQUIRED: { status: 422, retryable: false, title: 'a reopened nonconformity needs a root-cause analysis before a new corrective action' },
  FILE_UNREADABLE: { status: 400, retryable: false, title: 'the file cannot be read' },
  EXPORT_TARGET_NOT_EMPTY: { status: 409, retryable: false, title: 'an export goes into a new or empty folder' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class RecurdError extends Error {
  readonly code: `RECURD_ERR_${ErrorCode}`;
  readonly status: number;
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RecurdError';
    this.code = `RECURD_ERR_${code}`;
    this.status = ERRORS[code].status;
    this.retryable = ERRORS[code].retryable;
  }
}
