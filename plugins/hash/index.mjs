/**
 * A CPU-bound hot HTTP handler for bench/http.mjs: SHA-256 over the request body, chained `rounds`
 * times (each round hashes the previous digest and the whole body again). Plain JavaScript, not
 * TypeScript like the other plugins: the benchmark also imports this very file in-process, to
 * compare, and Node 20 cannot import `.ts` without a loader.
 */
import { createHash } from 'node:crypto';

/** Rounds when the URL does not say (`/hash?rounds=64`): about 0.9 ms of CPU for a 64 KB body on the bench machine. */
export const DEFAULT_ROUNDS = 16;

/** Answers the hex digest of the body after `rounds` chained SHA-256 rounds. */
export function hash(request) {
  const asked = Number(new URL(request.url, 'http://localhost').searchParams.get('rounds'));
  const rounds = Number.isInteger(asked) && asked > 0 ? asked : DEFAULT_ROUNDS;
  let digest = createHash('sha256').update(request.body).digest();
  for (let round = 1; round < rounds; round++)
    digest = createHash('sha256').update(digest).update(request.body).digest();
  return { headers: { 'content-type': 'text/plain; charset=utf-8' }, body: digest.toString('hex') };
}

/** Answers at once: what a request costs when the handler does nothing. */
export function hello() {
  return { headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'hello\n' };
}
