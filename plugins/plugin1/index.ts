import type { HttpRequest, HttpResponse } from '../http.ts';

/** Greets every request. plugin2 greets otherwise: point the config at it to see a hot swap. */
export function FooHandler(_request: HttpRequest): HttpResponse {
  return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Hello, world\n' };
}
