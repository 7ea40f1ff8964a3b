import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { type AnyExportedSpan, SpanType, type TracingContext } from "@mastra/core/observability";
import type { Processor } from "@mastra/core/processors";
import { RequestContext } from "@mastra/core/request-context";
import { InMemoryStore } from "@mastra/core/storage";
import { createTool } from "@mastra/core/tools";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { scriptedModel } from "@mastra/inngest-testing/model";
import { Observability, TestExporter } from "@mastra/observability";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createInngestAgent } from "./create-inngest-agent.ts";
import type { InngestAgent } from "./inngest-agent-types.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";
import { agentRunEnded, settled } from "./test/tracing/span-tree.ts";

/** Opens and ends a span named `name` under the current span of `tracingContext`, if there is one. */
function childSpan(tracingContext: TracingContext | undefined, name: string): void {
  tracingContext?.currentSpan?.createChildSpan({ type: SpanType.GENERIC, name })?.end();
}

/** An agent whose tool and processors each open a span of their own under the span they were given. */
function contextAgent(id: string): Agent {
  const lookup = createTool({
    id: "lookup",
    description: "Looks a value up",
    inputSchema: z.object({ key: z.string() }),
    execute: async ({ key }, context) => {
      childSpan(context?.tracingContext, "lookup: cache");
      return { key, value: 42 };
    },
  });
  const checks = {
    id: "checks",
    processInput: async ({ messages, tracingContext }) => {
      childSpan(tracingContext, "check: input");
      return messages;
    },
    processOutputStep: async ({ messages, tracingContext }) => {
      childSpan(tracingContext, "check: output step");
      return messages;
    },
  } satisfies Processor;
  const script = [{ toolCalls: [{ toolName: "lookup", args: { key: "answer" } }] }, { text: "It is 42." }];
  return new Agent({
    id,
    name: id,
    instructions: "Answer briefly.",
    model: scriptedModel(script) as never,
    tools: { lookup },
    inputProcessors: [checks],
    outputProcessors: [checks],
  });
}

/** Mastra's observability with one in-memory exporter that copies the request context's `tenant` onto spans. */
function observabilityWithKeys(): { observability: Observability; exporter: TestExporter } {
  const exporter = new TestExporter();
  const observability = new Observability({
    configs: { default: { serviceName: "tracing-context", exporters: [exporter], requestContextKeys: ["tenant"] } },
  });
  return { observability, exporter };
}

/** Where a span the tool or a processor opened was put: its parent's type and name, and its metadata. */
function placement(spans: readonly AnyExportedSpan[], name: string, agentId: string) {
  const span = spans.find((candidate) => candidate.name === name);
  const parent = spans.find((candidate) => candidate.id === span?.parentSpanId);
  return {
    found: span !== undefined,
    parent: parent === undefined ? undefined : `${parent.type} ${parent.name.replaceAll(agentId, "<agent>")}`,
    tenant: (span?.metadata as { tenant?: string } | undefined)?.tenant,
  };
}

/**
 * The tracing context a tool or a processor gets is the real one (a span it opens lands where the
 * plain agent puts it), and the request context keys Mastra's tracing copies onto spans
 * (`requestContextKeys`) and `tracingOptions.metadata` reach the spans of every step.
 * @see issue 20
 */
describe.each(["checkpoint", "classic"] as const)("the tracing context of tools and processors (%s mode)", (mode) => {
  let world: TestWorld;
  let durable: InngestAgent;
  let plain: Agent;
  const durableTracing = observabilityWithKeys();
  const plainTracing = observabilityWithKeys();

  beforeAll(async () => {
    world = await startTestWorld(mode);
    const inngest = new Inngest({
      id: `tracing-context-${mode}`,
      isDev: true,
      baseUrl: world.engine.url,
      logger: silentLogger,
    });
    durable = createInngestAgent({ agent: contextAgent("context-agent"), inngest });
    new Mastra({
      agents: { durable },
      storage: new InMemoryStore(),
      observability: durableTracing.observability,
      logger: false,
    });
    const plainMastra = new Mastra({
      agents: { plain: contextAgent("context-agent-plain") },
      storage: new InMemoryStore(),
      observability: plainTracing.observability,
      logger: false,
    });
    plain = plainMastra.getAgent("plain");
    await world.serve(inngest, durable.getInngestFunctions());
  }, 60_000);

  afterAll(async () => {
    await durable?.pubsub.close();
    await world?.close();
  });

  it("spans opened by a tool and by processors land where the plain agent puts them, with the request's metadata", async () => {
    const options = () => ({
      maxSteps: 5,
      requestContext: new RequestContext([["tenant", "acme"]]),
      tracingOptions: { metadata: { release: "r1" } },
    });
    const plainOutput = await plain.stream("What is the answer?", options());
    await plainOutput.consumeStream();
    await settled();
    const live = await durable.stream("What is the answer?", options());
    for await (const _chunk of live.output.fullStream as unknown as AsyncIterable<unknown>) {
      // read to the end
    }
    live.cleanup();
    await agentRunEnded(durableTracing.exporter, live.runId);
    const ended = (exporter: TestExporter) =>
      exporter.events.filter((event) => event.type === "span_ended").map((event) => event.exportedSpan);
    const plainSpans = ended(plainTracing.exporter);
    const durableSpans = ended(durableTracing.exporter);

    for (const name of ["lookup: cache", "check: input", "check: output step"]) {
      const expected = placement(plainSpans, name, "context-agent-plain");
      expect(expected.found, `the plain agent records ${name}`).toBe(true);
      expect(placement(durableSpans, name, "context-agent"), name).toEqual(expected);
    }
    expect(placement(durableSpans, "lookup: cache", "context-agent").parent).toBe("tool_call tool: 'lookup'");

    // `requestContextKeys` copies the request's tenant onto every span, in whichever step it was opened.
    for (const spans of [plainSpans, durableSpans]) {
      const untagged = spans.filter((span) => (span.metadata as { tenant?: string } | undefined)?.tenant !== "acme");
      expect(untagged.map((span) => `${span.type} ${span.name}`)).toEqual([]);
    }
    const [agentRun] = durableSpans.filter((span) => span.type === "agent_run");
    expect(agentRun?.metadata).toMatchObject({ release: "r1", tenant: "acme" });
  }, 60_000);
});
