import { durableAgent } from "../../../src/mastra.ts";

/**
 * Starts a run of the agent and streams its text as it is written, as `text/plain`; the run's id is
 * in the `x-run-id` header. The body is JSON: `{ "message": "..." }`.
 */
export async function POST(request: Request): Promise<Response> {
  const body = (await request.json().catch(() => undefined)) as { message?: unknown } | undefined;
  const message = body?.message;
  if (typeof message !== "string" || message.trim() === "") {
    return Response.json({ error: 'send a JSON body { "message": "..." }' }, { status: 400 });
  }
  const { output, runId, cleanup } = await durableAgent.stream(message);
  const reader = output.textStream.getReader();
  const encoder = new TextEncoder();
  const text = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await reader.read();
        if (next.done) {
          cleanup();
          controller.close();
        } else {
          controller.enqueue(encoder.encode(next.value));
        }
      } catch (error) {
        cleanup();
        controller.error(error);
      }
    },
    cancel(reason) {
      cleanup();
      return reader.cancel(reason);
    },
  });
  return new Response(text, { headers: { "content-type": "text/plain; charset=utf-8", "x-run-id": runId } });
}
