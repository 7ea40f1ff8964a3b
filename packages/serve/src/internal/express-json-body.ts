import type { IncomingMessage } from "node:http";
import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";

const packageName = "@mastra/inngest-serve";

/**
 * The largest body read when no body parser ran: 32 MiB, the most state Inngest keeps for one run
 * (event data and every step's output), which is what a call to the app carries at most. The SDK
 * sets no limit of its own.
 */
export const DEFAULT_MAX_BODY_BYTES: number = 32 * 1024 * 1024;

/** An Express request: a Node request with the fields Express adds, `body` once a parser ran. */
type ExpressRequest = IncomingMessage & { body?: unknown; app: unknown; originalUrl: string };

/** The part of a Node response an error answer needs. */
interface ErrorResponse {
  headersSent: boolean;
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

/**
 * Wraps the handler an Inngest serve adapter returned so that an Express request whose body no
 * parser read (no `express.json()`) gets `req.body` parsed from JSON, up to `maxBodyBytes`, before
 * the SDK sees it: the SDK's Express handler reads only `req.body`, and without it every call from
 * the engine fails. Every other request, and every other framework's arguments, go to the handler
 * untouched. The wrapper keeps the handler's own properties (`length`, `name`, Next.js's `GET`).
 */
export function withExpressJsonBody<THandler>(handler: THandler, maxBodyBytes: number): THandler {
  if (typeof handler !== "function") {
    return handler;
  }
  const target = handler as (...args: unknown[]) => unknown;
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    const [request, response] = args;
    if (!isUnreadExpressRequest(request)) {
      return target.apply(this, args);
    }
    return readJsonBody(request, maxBodyBytes).then(
      (body) => {
        if (body !== undefined) {
          request.body = body;
        }
        return target.apply(this, args);
      },
      (error: unknown) => {
        answerError(error, request, response as ErrorResponse);
      },
    );
  };
  const properties = Object.getOwnPropertyDescriptors(target) as Record<string, PropertyDescriptor>;
  delete properties.prototype;
  Object.defineProperties(wrapped, properties);
  return wrapped as THandler;
}

/**
 * An Express request (Express sets `app` and `originalUrl`) that announces a body which no parser
 * read. The SDK's Node adapter reads the stream itself and gets a plain request, so it never
 * matches; nor do Fastify, Koa and Hono, whose handlers receive their own request objects.
 */
function isUnreadExpressRequest(request: unknown): request is ExpressRequest {
  if (typeof request !== "object" || request === null) {
    return false;
  }
  const candidate = request as Partial<ExpressRequest>;
  return (
    candidate.body === undefined &&
    typeof candidate.app === "function" &&
    typeof candidate.originalUrl === "string" &&
    typeof candidate.on === "function" &&
    candidate.readableEnded === false &&
    candidate.headers !== undefined &&
    announcesBody(candidate.headers)
  );
}

function announcesBody(headers: IncomingMessage["headers"]): boolean {
  if (headers["transfer-encoding"] !== undefined) {
    return true;
  }
  const length = Number(headers["content-length"]);
  return Number.isFinite(length) && length > 0;
}

/** Reads the body to its end and parses it as JSON; `undefined` for an empty body. */
async function readJsonBody(request: ExpressRequest, maxBodyBytes: number): Promise<unknown> {
  const encoding = request.headers["content-encoding"]?.toLowerCase() ?? "identity";
  if (encoding !== "identity") {
    // The engine never compresses its calls; inflating here would need a limit on the inflated size too.
    throw requestError(
      `[${packageName}] the request body is ${encoding}-encoded; only an uncompressed JSON body is read without a body parser`,
      ErrorCode.INVALID_REQUEST_BODY,
      415,
    );
  }
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBodyBytes) {
    throw tooLarge(`${declared} bytes`, maxBodyBytes);
  }
  const text = await readText(request, maxBodyBytes);
  if (text === "") {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw requestError(
      `[${packageName}] the request body must be JSON, got ${text.length} characters that do not parse`,
      ErrorCode.INVALID_REQUEST_BODY,
      400,
      cause,
    );
  }
}

async function readText(request: ExpressRequest, maxBodyBytes: number): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      request.off("data", onData);
      request.off("end", onEnd);
      request.off("error", onError);
      request.off("close", onClose);
    };
    const onData = (chunk: Buffer | string): void => {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += bytes.length;
      if (size > maxBodyBytes) {
        // Without a data listener the rest flows by unbuffered until the error answer closes the connection.
        cleanup();
        reject(tooLarge(`more than ${maxBodyBytes} bytes`, maxBodyBytes));
        return;
      }
      chunks.push(bytes);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks).toString("utf8"));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(
        requestError(`[${packageName}] reading the request body failed`, ErrorCode.INVALID_REQUEST_BODY, 400, error),
      );
    };
    const onClose = (): void => {
      cleanup();
      reject(
        requestError(
          `[${packageName}] the request was closed before its body was read`,
          ErrorCode.INVALID_REQUEST_BODY,
          400,
        ),
      );
    };
    request.on("data", onData);
    request.on("end", onEnd);
    request.on("error", onError);
    request.on("close", onClose);
  });
}

function tooLarge(size: string, maxBodyBytes: number): MastraInngestError {
  return requestError(
    `[${packageName}] the request body must be at most maxBodyBytes (${maxBodyBytes}) bytes, got ${size}; raise maxBodyBytes, or parse the body before serve with express.json({ limit })`,
    ErrorCode.PAYLOAD_TOO_LARGE,
    413,
  );
}

/**
 * A `MastraInngestError` that also carries the HTTP status, as `status` and `statusCode`, so that
 * Express's error handling (and the user's error middleware) answers with it.
 */
function requestError(message: string, code: ErrorCode, status: number, cause?: unknown): MastraInngestError {
  const error = new MastraInngestError(message, cause === undefined ? { code } : { code, cause });
  return Object.assign(error, { status, statusCode: status, expose: true });
}

/**
 * Answers the error itself rather than through `next`: Express's final handler would first wait for
 * the whole body, so a client announcing a huge one would hold the connection as long as it likes.
 */
function answerError(error: unknown, request: ExpressRequest, response: ErrorResponse): void {
  if (response.headersSent) {
    return;
  }
  response.statusCode = (error as { status?: number }).status ?? 400;
  response.setHeader("content-type", "application/json; charset=utf-8");
  if (!request.readableEnded) {
    // The unread rest of the body would otherwise be parsed as the next request on this connection.
    response.setHeader("connection", "close");
  }
  response.end(JSON.stringify({ error: (error as Error).message, code: (error as MastraInngestError).code }));
}
