import { createServer, type Server } from "node:http";
import { Mastra } from "@mastra/core/mastra";
import { InMemoryStore } from "@mastra/core/storage";
import { findFreePort, silentLogger } from "@mastra/inngest-testing/helpers";
import { Observability } from "@mastra/observability";
import { OtelExporter } from "@mastra/otel-exporter";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import type { InngestAgent } from "./inngest-agent-types.ts";
import { parityAgent } from "./test/parity/parity-agents.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

/** One span as an OTLP/HTTP JSON export request carries it (ids in hex). */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

/** The body of an OTLP/HTTP JSON trace export request. */
interface OtlpTraceRequest {
  resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: OtlpSpan[] }> }>;
}

/**
 * A small OTLP/HTTP receiver: keeps the spans of every JSON trace export posted to `/v1/traces`
 * and answers every request (logs included) with 200, as a collector does.
 */
async function startOtlpReceiver(): Promise<{ url: string; spans: OtlpSpan[]; close(): Promise<void> }> {
  const spans: OtlpSpan[] = [];
  const port = await findFreePort();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (request.url === "/v1/traces") {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as OtlpTraceRequest;
        for (const resource of body.resourceSpans ?? []) {
          for (const scope of resource.scopeSpans ?? []) {
            spans.push(...(scope.spans ?? []));
          }
        }
      }
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * With Mastra's OpenTelemetry exporter set up as Mastra documents it (OTLP/HTTP to a collector),
 * the spans of a durable run reach the endpoint as one trace with the plain agent's parent links.
 * @see issue 20
 */
describe("tracing to an OTLP/HTTP endpoint", () => {
  let world: TestWorld;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let exporter: OtelExporter;
  let durable: InngestAgent;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    world = await startTestWorld("checkpoint");
    const inngest = new Inngest({ id: "tracing-otlp", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
    const script = [{ toolCalls: [{ toolName: "weather", args: { city: "Paris" } }] }, { text: "It is 21 degrees." }];
    durable = createInngestAgent({ agent: parityAgent("otlp-agent", { script, tools: ["weather"] }), inngest });
    exporter = new OtelExporter({ provider: { custom: { endpoint: receiver.url, protocol: "http/json" } } });
    new Mastra({
      agents: { otlpAgent: durable },
      storage: new InMemoryStore(),
      observability: new Observability({ configs: { otel: { serviceName: "tracing-otlp", exporters: [exporter] } } }),
      logger: false,
    });
    await world.serve(inngest, durable.getInngestFunctions());
  }, 60_000);

  afterAll(async () => {
    await exporter?.shutdown();
    await durable?.pubsub.close();
    await world?.close();
    await receiver?.close();
  });

  it("one trace: agent run, generation, steps and the tool call, linked as the plain agent links them", async () => {
    const live = await durable.stream("Weather in Paris?", { maxSteps: 5 });
    for await (const _chunk of live.output.fullStream as unknown as AsyncIterable<unknown>) {
      // read to the end
    }
    live.cleanup();
    // The exporter names spans by OpenTelemetry's GenAI conventions: `invoke_agent` for the agent
    // run, `agent_step` for a model step, `chat` for an inference, `execute_tool` for a tool call.
    const agentRunName = "invoke_agent otlp-agent";
    // The exporter batches; a flush sends what it holds.
    for (let waited = 0; waited < 10_000 && !receiver.spans.some((span) => span.name === agentRunName); waited += 100) {
      await exporter.flush();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const agentRun = receiver.spans.find((span) => span.name === agentRunName);
    expect(agentRun, "the agent_run span reached the endpoint").toBeDefined();
    const trace = receiver.spans.filter((span) => span.traceId === agentRun?.traceId);
    const byId = new Map(trace.map((span) => [span.spanId, span]));
    const parentName = (span: OtlpSpan) => byId.get(span.parentSpanId ?? "")?.name;
    const parentsOf = (name: string) => trace.filter((span) => span.name === name).map(parentName);

    expect(agentRun?.parentSpanId || undefined).toBeUndefined();
    expect(parentsOf("model_generation scripted")).toEqual([agentRunName]);
    expect(parentsOf("agent_step otlp-agent")).toEqual(["model_generation scripted", "model_generation scripted"]);
    expect(parentsOf("chat scripted")).toEqual(["agent_step otlp-agent", "agent_step otlp-agent"]);
    const [tool] = trace.filter((span) => span.name === "execute_tool weather");
    expect(tool && parentName(tool)).toBe("agent_step otlp-agent");
    // The tool ran in the first step: the one whose inference decided to call it.
    const firstStep = trace.filter((span) => span.parentSpanId === tool?.parentSpanId).map((span) => span.name);
    expect(firstStep.sort()).toEqual(["chat scripted", "execute_tool weather"]);
    // Every span of the run is in this trace, each exported once, and one tree under the agent run.
    expect(receiver.spans.filter((span) => span.traceId !== agentRun?.traceId)).toEqual([]);
    expect(new Set(trace.map((span) => span.spanId)).size).toBe(trace.length);
    expect(trace.filter((span) => span !== agentRun && !byId.has(span.parentSpanId ?? ""))).toEqual([]);
  }, 60_000);
});
