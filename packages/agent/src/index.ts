export { createInngestAgent, isInngestAgent } from "./create-inngest-agent.ts";
export type {
  CreateInngestAgentOptions,
  InngestAgent,
  InngestAgentMemoryOption,
  InngestAgentObserveOptions,
  InngestAgentStreamOptions,
  InngestAgentStreamResult,
  PrepareResult,
} from "./inngest-agent-types.ts";
