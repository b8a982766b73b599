/** A real server on the loopback for a test, closed after it. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onCleanup } from './index.js';

/** Listens on a free loopback port; the server (and every connection still open) is closed after the test. Resolves to its base URL. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
