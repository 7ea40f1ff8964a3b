import { Agent } from "@mastra/core/agent";
import { createTool } from "@mastra/core/tools";
import { createInngestAgent, type InngestAgent } from "@mastra/inngest-agent";
import { scriptedModel } from "@mastra/inngest-testing/model";
import type { Inngest } from "inngest";
import { z } from "zod";

// The durable agents that Mastra's server serves in the server tests: one whose tool needs
// approval, one whose tool suspends for an answer, one that writes slowly. Test support only.

const transfer = createTool({
  id: "transfer",
  description: "Moves money",
  inputSchema: z.object({ amount: z.number() }),
  requireApproval: true,
  execute: async ({ amount }) => ({ moved: amount }),
});

const ask = createTool({
  id: "ask",
  description: "Asks the user a question",
  inputSchema: z.object({ question: z.string() }),
  suspendSchema: z.object({ question: z.string() }),
  resumeSchema: z.object({ answer: z.string() }),
  execute: async ({ question }, context) => {
    const answer = (context?.agent?.resumeData as { answer?: string } | undefined)?.answer;
    if (answer === undefined) {
      await context?.agent?.suspend?.({ question });
      return { answer: "" };
    }
    return { answer };
  },
});

/** What the slow writer says, one word about every `writerDelayMs`. */
export const writerText = "One two three four five six seven eight nine ten eleven twelve.";

/** The pause before each part of the writer's answer, in milliseconds: long enough to act mid-run. */
export const writerDelayMs = 60;

/** The served agents, by id: `bank` (approval), `ask` (a tool that suspends), `writer` (slow text). */
export interface BankAgents {
  bank: InngestAgent;
  ask: InngestAgent;
  writer: InngestAgent;
}

/** Creates the three durable agents on `inngest`. */
export function createBankAgents(inngest: Inngest.Any): BankAgents {
  const bank = new Agent({
    id: "bank",
    name: "Bank",
    instructions: "You move money when asked.",
    model: scriptedModel([{ toolCalls: [{ toolName: "transfer", args: { amount: 5 } }] }, { text: "Done." }]),
    tools: { transfer },
  });
  const asking = new Agent({
    id: "ask",
    name: "Ask",
    instructions: "Ask which account before you answer.",
    model: scriptedModel([
      { toolCalls: [{ toolName: "ask", args: { question: "Which account?" } }] },
      { text: "Sent to the account you chose." },
    ]),
    tools: { ask },
  });
  const writer = new Agent({
    id: "writer",
    name: "Writer",
    instructions: "Write slowly.",
    model: scriptedModel([{ text: writerText }], { delayMs: writerDelayMs }),
  });
  return {
    bank: createInngestAgent({ agent: bank, inngest }),
    ask: createInngestAgent({ agent: asking, inngest }),
    writer: createInngestAgent({ agent: writer, inngest }),
  };
}
