import { Session } from 'node:inspector';

/** How long an interruption may take: the inspector answers from the worker's thread, between two JavaScript steps. */
export const INTERRUPT_TIMEOUT_MS = 1000;

interface AttachedParams {
  readonly sessionId: string;
  readonly workerInfo: { readonly workerId: string; readonly title: string };
}

/**
 * Stops the JavaScript that keeps worker thread `threadId` busy, and leaves the thread running: its
 * event loop turns again. `worker.terminate()` stops the thread too, and the thread's child
 * processes that ended meanwhile are then reaped by no one (zombies for the host's life); after
 * this, the loop reaps them. Through the inspector's `NodeWorker` domain and
 * `Runtime.terminateExecution`, from a session of the host's own (no port is opened). Resolves
 * `false` when it could not (Node built without the inspector, no such worker, no answer within
 * {@link INTERRUPT_TIMEOUT_MS}).
 */
export async function interruptWorker(threadId: number): Promise<boolean> {
  const session = new Session();
  let timer: NodeJS.Timeout | undefined;
  try {
    session.connect();
    const interrupted = new Promise<boolean>((resolve) => {
      session.on('NodeWorker.attachedToWorker', ({ params }: { params: AttachedParams }) => {
        // The inspector numbers workers its own way; the title names the thread: "[worker 3]", "[worker 3] name".
        const { title } = params.workerInfo;
        if (title !== `[worker ${threadId}]` && !title.startsWith(`[worker ${threadId}] `)) return;
        target = params.sessionId;
        const message = JSON.stringify({ id: 1, method: 'Runtime.terminateExecution' });
        session.post('NodeWorker.sendMessageToWorker', { sessionId: params.sessionId, message }, (error) => {
          if (error !== null) resolve(false);
        });
      });
      let target: string | undefined;
      session.on(
        'NodeWorker.receivedMessageFromWorker',
        ({ params }: { params: { sessionId: string; message: string } }) => {
          if (params.sessionId === target && params.message.startsWith('{"id":1,')) resolve(true);
        },
      );
      timer = setTimeout(resolve, INTERRUPT_TIMEOUT_MS, false);
      // Attaches to every worker of the process for a moment (without pausing any), and says which is which.
      session.post('NodeWorker.enable', { waitForDebuggerOnStart: false }, (error) => {
        if (error !== null) resolve(false);
      });
    });
    return await interrupted;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    try {
      session.disconnect();
    } catch {
      // Never connected.
    }
  }
}
