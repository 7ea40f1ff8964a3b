import { Agent } from "@mastra/core/agent";
import { createTool } from "@mastra/core/tools";
import { scriptedModel } from "@mastra/inngest-testing/model";
import { z } from "zod";

/** What the customer asks the support agent. */
export const question = "Order #1042 arrived broken. Can you refund it?";

/** A tool with a side effect: the run waits for a human to approve each call before it executes. */
const refundOrder = createTool({
  id: "refundOrder",
  description: "Refunds an order to the customer's original payment method.",
  inputSchema: z.object({ orderId: z.string(), amountUsd: z.number() }),
  requireApproval: true,
  execute: async ({ orderId, amountUsd }) => ({ orderId, refundedUsd: amountUsd, status: "refunded" }),
});

const instructions = [
  "You are the support agent of an online shop.",
  "When an order arrived damaged, first explain the refund policy in two or three sentences,",
  "then call refundOrder once with the order id and the amount of 49.90 USD,",
  "and after the tool answers, close with one short sentence.",
].join(" ");

/** What the scripted model answers: before it calls refundOrder, and after the tool answers. */
export const scriptedAnswer: { beforeToolCall: string; afterToolCall: string } = {
  beforeToolCall:
    "I'm sorry order #1042 arrived damaged. Anything that breaks in transit is refunded in full " +
    "to the original payment method, and there is no need to send it back. Refunds usually " +
    "appear within three to five business days. I'll start the refund of $49.90 now.",
  afterToolCall: "Thanks for your patience. Is there anything else I can help you with?",
};

// The answer a model would give, played back word by word. The pause before each part makes the
// answer take a few seconds, so the client can drop its connection while it is still streaming.
const scripted = scriptedModel(
  [
    {
      text: scriptedAnswer.beforeToolCall,
      toolCalls: [{ toolName: "refundOrder", args: { orderId: "1042", amountUsd: 49.9 } }],
    },
    { text: scriptedAnswer.afterToolCall },
  ],
  { delayMs: 60 },
);

/** The agent and a label for its model: OpenAI when `OPENAI_API_KEY` is set, a scripted model otherwise. */
export function createSupportAgent(environment: NodeJS.ProcessEnv = process.env): { agent: Agent; model: string } {
  const useOpenAI = Boolean(environment.OPENAI_API_KEY);
  const agent = new Agent({
    id: "support",
    name: "Support",
    instructions,
    model: useOpenAI ? "openai/gpt-4o-mini" : scripted,
    tools: { refundOrder },
  });
  return { agent, model: useOpenAI ? "openai/gpt-4o-mini" : "scripted (no API key needed)" };
}
