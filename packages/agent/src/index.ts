export { createInngestAgent, isInngestAgent } from "./create-inngest-agent.ts";
export type {
  CreateInngestAgentOptions,
  InngestAgent,
  InngestAgentMemoryOption,
  InngestAgentObserveOptions,
  InngestAgentResumeOptions,
  InngestAgentStreamOptions,
  InngestAgentStreamResult,
  PrepareResult,
} from "./inngest-agent-types.ts";
