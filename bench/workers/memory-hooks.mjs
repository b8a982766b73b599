/**
 * Module hooks that serve a plugin's modules from memory, for the graph bench's import floor: the
 * least a worker pays to import modules through hooks whoever serves them (Node's hooks thread on
 * Node 20, `module.registerHooks` in the thread on 22.15+/24), with no host, no channel and no file
 * read. `sources` maps each module's `file:` URL to its ES module source; a relative specifier from
 * one of them resolves by URL, everything else as Node resolves it.
 */
let sources = new Map();

/** `module.register`'s entry (Node 20), and what the registerHooks side calls itself. */
export function initialize(data) {
  sources = new Map(Object.entries(data.sources));
}

export function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL;
  if (parent !== undefined && sources.has(parent) && /^\.{0,2}\//.test(specifier)) {
    const url = new URL(specifier, parent).href;
    if (sources.has(url)) return { url, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

export function load(url, context, nextLoad) {
  const source = sources.get(url);
  return source === undefined ? nextLoad(url, context) : { format: 'module', source, shortCircuit: true };
}
