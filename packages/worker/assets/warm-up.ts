// Imported once by a worker right after it registers tsx (packages/worker/src/load.ts), so that the
// first TypeScript import's one-time costs are paid before a plugin is imported.
interface Warm {
  readonly ready: boolean;
}

export const warm: Warm = { ready: true };
