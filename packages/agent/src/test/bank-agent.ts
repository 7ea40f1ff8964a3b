import { Agent } from "@mastra/core/agent";
import { createTool } from "@mastra/core/tools";
import { scriptedModel } from "@mastra/inngest-testing/model";
import { z } from "zod";

// A bank agent whose one tool needs approval: each run waits for a decision, then answers "Done.".
// Test support only.

/** A tool that moves money once approved. */
export const transfer: ReturnType<typeof createTool> = createTool({
  id: "transfer",
  description: "Moves money",
  inputSchema: z.object({ amount: z.number() }),
  requireApproval: true,
  execute: async ({ amount }) => ({ moved: amount }),
});
/** A new bank agent, on its own scripted model. */
export const bank = (): Agent =>
  new Agent({
    id: "bank",
    name: "Bank",
    instructions: "-",
    model: scriptedModel([{ toolCalls: [{ toolName: "transfer", args: { amount: 5 } }] }, { text: "Done." }]),
    tools: { transfer },
  });
