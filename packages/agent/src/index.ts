export { callerIdentityMiddleware } from "./caller-identity-middleware.ts";
export { createInngestAgent, isInngestAgent } from "./create-inngest-agent.ts";
export type {
  AgentOutput,
  AnyAgent,
  CreateInngestAgentOptions,
  InngestAgentCallbackName,
  InngestAgentCallbacks,
  InngestAgentFunctionOptions,
  InngestAgentMemoryOption,
  InngestAgentObserveOptions,
  InngestAgentResumeOptions,
  InngestAgentRunAccessOptions,
  InngestAgentStreamOptions,
  RunRetention,
  RunTokenOptions,
  RunTokenScope,
  ServerResumeOptions,
} from "./inngest-agent-options.ts";
export type {
  InngestAgent,
  InngestAgentMembers,
  InngestAgentRecoveryResult,
  InngestAgentStreamResult,
  PrepareResult,
} from "./inngest-agent-types.ts";
