import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { createInngestAgent, type InngestAgent } from "@mastra/inngest";
import { scriptedModel, textTurn } from "@mastra/inngest-testing/model";
import { Inngest } from "inngest";

/**
 * The Inngest client. Locally, run with `INNGEST_DEV=<engine url>` (dev mode); in production, with
 * `INNGEST_SIGNING_KEY` and `INNGEST_EVENT_KEY` set.
 */
export const inngest: Inngest.Any = new Inngest({ id: "next-example" });

/** What the agent answers when no `OPENAI_API_KEY` is set. */
export const scriptedAnswer = "Hello from a durable agent: every model call ran as an Inngest step.";

const agent = new Agent({
  id: "assistant",
  name: "Assistant",
  instructions: "You are a helpful assistant. Answer in one or two sentences.",
  model: process.env.OPENAI_API_KEY ? "openai/gpt-4o-mini" : scriptedModel([textTurn(scriptedAnswer)]),
});

/** The agent, its loop running as durable Inngest steps. */
export const durableAgent: InngestAgent = createInngestAgent({ agent, inngest });

/** The Mastra instance; `serve()` collects the Inngest functions of its durable agents. */
export const mastra: Mastra = new Mastra({ agents: { assistant: durableAgent } });
