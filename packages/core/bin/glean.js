#!/usr/bin/env node
// The `glean` command (src/cli.ts). It sits outside dist/ because npm links a bin only if the file
// exists when it installs, and in a fresh clone `npm ci` runs before the first build.
let cli;
try {
  cli = await import('../dist/cli.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('cli.js')) throw error;
  process.stderr.write('glean: @glean/core is not built yet; run "npm run build" first\n');
  process.exit(1);
}
await cli.main();
