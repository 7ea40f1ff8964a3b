import { MastraClientError } from "@mastra/client-js";

// Reading what `MastraClient` answers, as its users do. Test support only.

/** A chunk as the client's `processDataStream` hands it over (a raw stream event for `observe`). */
export interface ClientChunk {
  type: string;
  runId?: string;
  /** The position of a raw stream event (the `observe` route). */
  index?: number;
  payload?: Record<string, unknown>;
  /** The chunk inside a raw stream event of type `chunk` (the `observe` route). */
  data?: { type?: string; payload?: Record<string, unknown> };
}

/** A streaming answer of the client's agent resource. */
interface ProcessableResponse {
  processDataStream(options: { onChunk: (chunk: unknown) => Promise<void> }): Promise<void>;
}

/** Every chunk of a streaming answer, read with the client's own `processDataStream`. */
export async function readChunks(response: ProcessableResponse): Promise<ClientChunk[]> {
  const chunks: ClientChunk[] = [];
  await response.processDataStream({
    onChunk: async (chunk: unknown) => {
      chunks.push(chunk as ClientChunk);
    },
  });
  return chunks;
}

/** The HTTP status with which the server refused `call`; fails when the call went through. */
export async function refusalOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
  } catch (error) {
    if (error instanceof MastraClientError) {
      return error.status;
    }
    throw error;
  }
  throw new Error("the server accepted a call it should have refused");
}

/** The text of the `text-delta` chunks, whether the chunks come bare or inside raw stream events. */
export function textOf(chunks: readonly ClientChunk[]): string {
  return chunks
    .map((chunk) => (chunk.type === "chunk" ? chunk.data : chunk))
    .filter((chunk) => chunk?.type === "text-delta")
    .map((chunk) => String(chunk?.payload?.text ?? ""))
    .join("");
}

/** The first chunk of `type` (bare or inside a raw stream event), or a failure naming what came. */
export function chunkOf(chunks: readonly ClientChunk[], type: string): ClientChunk {
  const found = chunks.find((chunk) => chunk.type === type || (chunk.type === "chunk" && chunk.data?.type === type));
  if (found === undefined) {
    throw new Error(`no ${type} chunk among: ${chunks.map((chunk) => chunk.data?.type ?? chunk.type).join(", ")}`);
  }
  return found.type === "chunk" ? { ...found, ...(found.data as ClientChunk) } : found;
}
