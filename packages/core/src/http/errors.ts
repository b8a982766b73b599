import { ErrorCode, GleanError } from '../errors.js';

/** The codes of the errors the HTTP adapters raise themselves: the `HTTP_*` entries of {@link ErrorCode}. */
export const HttpErrorCode = {
  /** The request body is over `bodyLimit`; answered 413 without calling the handler. */
  BODY_TOO_LARGE: ErrorCode.HTTP_BODY_TOO_LARGE,
  /** The request ended (or failed) before its body was read whole; nothing is answered, the client is gone. */
  BODY_INCOMPLETE: ErrorCode.HTTP_BODY_INCOMPLETE,
  /** Another middleware already parsed the body into something that is not bytes or text; answered 500. */
  BODY_UNAVAILABLE: ErrorCode.HTTP_BODY_UNAVAILABLE,
  /** The handler returned something that is not an `HttpResponse` (bad status, header or body); answered 500. */
  INVALID_RESPONSE: ErrorCode.HTTP_INVALID_RESPONSE,
} as const;

/** One of the {@link HttpErrorCode} values. */
export type HttpErrorCode = (typeof HttpErrorCode)[keyof typeof HttpErrorCode];

/** A {@link GleanError} raised by the HTTP adapters themselves, with the status they answered. */
export class GleanHttpError extends GleanError {
  override name = 'GleanHttpError';
  /** The status the adapter answered with. */
  readonly status: number;

  constructor(code: HttpErrorCode, status: number, message: string, options?: ErrorOptions) {
    super(code, message, options?.cause === undefined ? {} : { cause: options.cause });
    this.status = status;
  }
}

/** How glean's error codes are answered; any other error (the plugin's own throw, a crash, …) is a 500. */
export const STATUS_OF_CODE: Readonly<Partial<Record<ErrorCode, number>>> = {
  GLEAN_QUEUE_FULL: 503,
  GLEAN_UNAVAILABLE: 503,
  GLEAN_NOT_CONFIGURED: 503,
  GLEAN_RELEASED: 503,
  GLEAN_CLOSED: 503,
  GLEAN_TIMEOUT: 504,
  GLEAN_DRAIN_TIMEOUT: 504,
  GLEAN_HTTP_BODY_TOO_LARGE: 413,
};

/** The status `error` is answered with. Matched on `code`, so errors from another copy of glean map alike. */
export function statusOf(error: unknown): number {
  const code = (error as { code?: unknown } | null)?.code;
  return (typeof code === 'string' ? STATUS_OF_CODE[code as ErrorCode] : undefined) ?? 500;
}
