import type { AnyExportedSpan, TracingEvent } from "@mastra/core/observability";
import { Observability, TestExporter } from "@mastra/observability";

// Span trees of a run as an exporter receives them, normalized for comparison: ids and times
// removed, the agent's id replaced, children in a stable order. Test support only.

/** One span of a normalized tree: its type, name, the attributes that matter, and its children. */
export interface SpanNode {
  type: string;
  name: string;
  attributes: Record<string, unknown>;
  error?: string;
  children: SpanNode[];
}

/** Mastra's observability with one in-memory exporter, as Mastra documents its setup. */
export function testObservability(): { observability: Observability; exporter: TestExporter } {
  const exporter = new TestExporter();
  const observability = new Observability({
    configs: { default: { serviceName: "tracing-test", exporters: [exporter] } },
  });
  return { observability, exporter };
}

/** The spans the exporter received as ended for the run `runId` (every trace the run's spans are in). */
export function endedSpansOfRun(exporter: TestExporter, runId: string): AnyExportedSpan[] {
  const ended = exporter.events.filter((event) => event.type === "span_ended").map((event) => event.exportedSpan);
  const traces = new Set(
    ended
      .filter((span) => (span.metadata as { runId?: string } | undefined)?.runId === runId)
      .map((span) => span.traceId),
  );
  return ended.filter((span) => traces.has(span.traceId));
}

/** Span ids the exporter received more than once as started, or more than once as ended. */
export function spansExportedTwice(events: readonly TracingEvent[], spanIds: ReadonlySet<string>): string[] {
  const counts = new Map<string, number>();
  for (const event of events) {
    if (spanIds.has(event.exportedSpan.id) && (event.type === "span_started" || event.type === "span_ended")) {
      const key = `${event.type} ${event.exportedSpan.type} ${event.exportedSpan.name}`;
      counts.set(`${key} ${event.exportedSpan.id}`, (counts.get(`${key} ${event.exportedSpan.id}`) ?? 0) + 1);
    }
  }
  return [...counts].filter(([, count]) => count > 1).map(([key]) => key);
}

/** The attributes compared per span type: model, usage, finish reason, tool, success. */
function keyAttributes(span: AnyExportedSpan): Record<string, unknown> {
  const attributes = (span.attributes ?? {}) as Record<string, unknown>;
  const usage = attributes.usage as { inputTokens?: number; outputTokens?: number } | undefined;
  const tokens = usage === undefined ? {} : { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens };
  const metadata = (span.metadata ?? {}) as Record<string, unknown>;
  switch (span.type) {
    case "agent_run":
      return {
        runId: typeof metadata.runId === "string",
        output: (span.output as { text?: string } | undefined)?.text,
        status: (span.output as { status?: string } | undefined)?.status,
      };
    case "model_generation":
      return {
        model: attributes.model,
        provider: attributes.provider,
        finishReason: attributes.finishReason,
        ...tokens,
      };
    case "model_step":
      return { stepIndex: attributes.stepIndex, finishReason: attributes.finishReason, ...tokens };
    case "tool_call":
      return { toolCallId: attributes.toolCallId, success: attributes.success, input: span.input, output: span.output };
    default:
      return {};
  }
}

/**
 * The run's spans as normalized trees, one per root. `model_chunk` spans are left out: core's
 * durable LLM step records the chunks the model streamed, the plain loop also the tool results.
 */
export function spanTrees(spans: readonly AnyExportedSpan[], agentId: string): SpanNode[] {
  const kept = spans.filter((span) => span.type !== "model_chunk");
  const ids = new Set(kept.map((span) => span.id));
  const node = (span: AnyExportedSpan): SpanNode => ({
    type: span.type,
    name: span.name.replaceAll(agentId, "<agent>"),
    attributes: keyAttributes(span),
    ...(span.errorInfo === undefined ? {} : { error: span.errorInfo.message }),
    children: kept
      .filter((child) => child.parentSpanId === span.id)
      .map(node)
      .sort(byTypeAndName),
  });
  return kept
    .filter((span) => span.parentSpanId === undefined || !ids.has(span.parentSpanId))
    .map(node)
    .sort(byTypeAndName);
}

function byTypeAndName(left: SpanNode, right: SpanNode): number {
  return `${left.type} ${left.name} ${JSON.stringify(left.attributes)}`.localeCompare(
    `${right.type} ${right.name} ${JSON.stringify(right.attributes)}`,
  );
}

/**
 * Waits (up to `timeoutMs`) until the exporter received the end of the run's `agent_run` span: an
 * aborted run's spans end when the step that saw the abort returns, after the caller's stream ended.
 */
export async function agentRunEnded(exporter: TestExporter, runId: string, timeoutMs = 10_000): Promise<void> {
  const ended = () =>
    exporter.events.some(
      (event) =>
        event.type === "span_ended" &&
        event.exportedSpan.type === "agent_run" &&
        (event.exportedSpan.metadata as { runId?: string } | undefined)?.runId === runId,
    );
  for (let waited = 0; waited < timeoutMs && !ended(); waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await settled();
}

/** Waits until the exporter has received what the run's last span ended with. */
export async function settled(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 200));
}
