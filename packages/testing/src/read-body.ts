/**
 * Reads a Node request or response (any stream of chunks) to its end and resolves with its bytes:
 * for a test server that answers from the whole body, or a proxy that forwards it.
 *
 * @example
 * const server = await startHttpServer(async (request, response) => {
 *   const body = (await readBody(request)).toString("utf8");
 *   response.end(body.toUpperCase());
 * });
 */
export async function readBody(stream: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks);
}
