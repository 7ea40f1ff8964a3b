export { DroppingPubSub } from "./dropping-pubsub.ts";
export { findFreePort } from "./free-port.ts";
export { type FunctionCallBodyOptions, functionCallBody } from "./function-call-body.ts";
export {
  type AdoptHttpServerOptions,
  adoptHttpServer,
  type HttpTestServer,
  type HttpTestServerOptions,
  startHttpServer,
} from "./http-test-server.ts";
export { readBody } from "./read-body.ts";
export { type RedisInfoClient, redisCommandCalls } from "./redis-command-calls.ts";
export { type AppSyncer, serveFunctions } from "./serve-functions.ts";
export { type RecordingLogger, recordingLogger, type SilentLogger, silentLogger } from "./test-loggers.ts";
export { type UntilOptions, until } from "./until.ts";
