/**
 * The hot HTTP handler contract, for the example plugins: a plain request in, a plain response (or a
 * promise of one) out. Type-only, so a plugin pays nothing for it at run time.
 */
export type { HttpRequest, HttpResponse } from '@glean/core/http';
