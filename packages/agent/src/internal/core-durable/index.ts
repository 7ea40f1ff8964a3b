// The one module through which this package calls `@mastra/core/agent/durable`: the caller's side
// (preparation, the run registry, core's stream adapter, abort, the idle loop) and the worker's
// (core's step functions, events, loop state). Every cast across that boundary lives here.
export * from "./caller.ts";
export * from "./run-input.ts";
export * from "./run-spans.ts";
export * from "./worker.ts";
