/** A bench part run in a Node process of its own, which writes its figures as one JSON line last. */
import { spawn } from 'node:child_process';

/**
 * Runs `node <nodeArgs…>` with `env` added to this process's; resolves with the JSON of the last
 * line it wrote to stdout, rejects if it ends otherwise than with code 0. Its stderr (progress)
 * passes through. `label` names it in the rejection.
 */
export function runJsonChild(nodeArgs, label, env = {}) {
  const child = spawn(process.execPath, nodeArgs, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => (out += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code !== 0) reject(new Error(`${label} ended with ${signal ?? `code ${code}`}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1)));
    });
  });
}
