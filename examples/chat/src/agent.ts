import { Agent } from "@mastra/core/agent";
import { createTool } from "@mastra/core/tools";
import { scriptedModel } from "@mastra/inngest-testing/model";
import { z } from "zod";

/** What the scripted model answers, whatever the customer writes: before it asks for the refund, and after the decision. */
export const scriptedAnswer: { beforeToolCall: string; afterToolCall: string } = {
  beforeToolCall:
    "I'm sorry order #1042 arrived damaged. Anything that breaks in transit is refunded in full to the " +
    "original payment method, and there is no need to send it back. Refunds usually appear within three " +
    "to five business days. Please confirm the refund of $49.90 below, and I will start it at once.",
  afterToolCall: "Your decision on the refund of order #1042 is recorded. Is there anything else I can help you with?",
};

/** The refund the scripted model asks for. */
export const scriptedRefund: { orderId: string; amountUsd: number } = { orderId: "1042", amountUsd: 49.9 };

/**
 * How long the scripted model waits before each word, in milliseconds: the answer takes about three
 * seconds, long enough to reload the page or to lose the server while it streams.
 */
const wordDelayMs = 50;

/** A tool with a side effect: the run waits for the customer to approve or deny each call. */
const refundOrder = createTool({
  id: "refundOrder",
  description: "Refunds an order to the customer's original payment method.",
  inputSchema: z.object({ orderId: z.string(), amountUsd: z.number() }),
  requireApproval: true,
  execute: async ({ orderId, amountUsd }) => ({ orderId, refundedUsd: amountUsd, status: "refunded" }),
});

const instructions = [
  "You are the support agent of an online shop.",
  "When an order arrived damaged, explain the refund policy in two or three sentences,",
  "then call refundOrder once with the order id and the amount (49.90 USD when the customer gives none),",
  "and after the tool answers, close with one short sentence.",
].join(" ");

/**
 * The support agent and a label for its model: `openai/gpt-4o-mini` through Mastra's model router
 * when `OPENAI_API_KEY` is set, otherwise a scripted model that needs no key.
 */
export function createSupportAgent(environment: NodeJS.ProcessEnv = process.env): { agent: Agent; model: string } {
  const useOpenAI = Boolean(environment.OPENAI_API_KEY);
  // The scripted model picks its turn from the number of assistant messages in the prompt, so a
  // retried step, or another process, plays the same answer.
  const scripted = scriptedModel(
    [
      { text: scriptedAnswer.beforeToolCall, toolCalls: [{ toolName: "refundOrder", args: scriptedRefund }] },
      { text: scriptedAnswer.afterToolCall },
    ],
    { delayMs: wordDelayMs },
  );
  const agent = new Agent({
    id: "support",
    name: "Support",
    instructions,
    model: useOpenAI ? "openai/gpt-4o-mini" : scripted,
    tools: { refundOrder },
  });
  return { agent, model: useOpenAI ? "openai/gpt-4o-mini" : "scripted (no API key needed)" };
}
