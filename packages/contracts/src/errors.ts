/**
 * The closed list of API error codes (api.md) and the HTTP status each maps to.
 * Server, web and SDK share this so a code never drifts from its status.
 */
export const errorStatus = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  rate_limited: 429,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof errorStatus;

/** One problem with one field of the input, named by its dotted path (`rules.sale.amount`). */
export interface ErrorDetail {
  path: string;
  message: string;
  code?: string;
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: ErrorDetail[] };
}

/**
 * The one error type of the API. Throw it anywhere in a request; the error handler renders it.
 * `status` may differ from the code's default only for transport-level refusals (413, 415).
 */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorDetail[] | undefined;

  constructor(code: ErrorCode, message: string, details?: ErrorDetail[], status?: number) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.details = details;
    this.status = status ?? errorStatus[code];
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details && this.details.length > 0 ? { details: this.details } : {}),
      },
    };
  }
}

export const notFound = (what: string): ApiError => new ApiError('not_found', `${what} not found`);
export const conflict = (message: string): ApiError => new ApiError('conflict', message);
export const forbidden = (message: string): ApiError => new ApiError('forbidden', message);
export const unprocessable = (path: string, message: string): ApiError =>
  new ApiError('unprocessable', message, [{ path, message }]);
