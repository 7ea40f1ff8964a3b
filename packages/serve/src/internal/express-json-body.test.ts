import { PassThrough } from "node:stream";
import { ErrorCode } from "@mastra/inngest-core";
import { describe, expect, it } from "vitest";
import { withExpressJsonBody } from "./express-json-body.ts";

/** A request as Express hands it on: a Node stream with `app`, `originalUrl` and no `body` yet. */
function expressRequest(headers: Record<string, string>, body?: unknown) {
  const stream = new PassThrough();
  return Object.assign(stream, {
    app: () => {},
    originalUrl: "/api/inngest",
    method: "POST",
    headers,
    ...(body === undefined ? {} : { body }),
  });
}

function recordingResponse() {
  const headers: Record<string, string> = {};
  return {
    headers,
    headersSent: false,
    statusCode: 200,
    text: "",
    setHeader(name: string, value: string) {
      headers[name] = value;
    },
    end(text: string) {
      this.text = text;
      this.headersSent = true;
    },
  };
}

describe("withExpressJsonBody", () => {
  it("parses a JSON body no parser read and sets it as req.body before the handler runs", async () => {
    const seen: unknown[] = [];
    const handler = withExpressJsonBody((request: { body?: unknown }) => {
      seen.push(request.body);
      return "handled";
    }, 1024);
    const request = expressRequest({ "content-type": "application/json", "content-length": "11" });
    const result = handler(request as never);
    request.end('{"a":[1,2]}');

    expect(await result).toBe("handled");
    expect(seen).toEqual([{ a: [1, 2] }]);
  });

  it("leaves a body a parser already set, a request without a body, and other frameworks' arguments alone", () => {
    const seen: unknown[] = [];
    const handler = withExpressJsonBody((first: unknown) => {
      seen.push(first);
      return "direct";
    }, 1024);
    const parsed = expressRequest({ "content-length": "2" }, { parsed: true });
    const bodiless = expressRequest({});
    const honoContext = { req: { raw: new Request("http://localhost/api/inngest") } };

    // Each returns synchronously: nothing was read first.
    expect(handler(parsed as never)).toBe("direct");
    expect(handler(bodiless as never)).toBe("direct");
    expect(handler(honoContext as never)).toBe("direct");
    expect(handler(new Request("http://localhost/api/inngest") as never)).toBe("direct");
    expect(seen[0]).toBe(parsed);
    expect((seen[0] as { body: unknown }).body).toEqual({ parsed: true });
    expect(seen[1]).toBe(bodiless);
  });

  it("keeps the handler's length, name and own properties, such as the GET of inngest/next", () => {
    const get = () => "get";
    const original = Object.defineProperties((_request: unknown, _response: unknown) => "handled", {
      name: { value: "InngestHandler" },
      GET: { value: get },
    });
    const handler = withExpressJsonBody(original, 1024) as typeof original & { GET: typeof get };

    expect(handler).not.toBe(original);
    expect(handler.length).toBe(2);
    expect(handler.name).toBe("InngestHandler");
    expect(handler.GET).toBe(get);
  });

  it("returns a handler that is not a function as it is", () => {
    const handler = { plugin: true };
    expect(withExpressJsonBody(handler, 1024)).toBe(handler);
  });

  it("answers 413 for a declared length over the limit without calling the handler", async () => {
    let calls = 0;
    const handler = withExpressJsonBody((_request: unknown, _response: unknown) => {
      calls++;
    }, 10);
    const request = expressRequest({ "content-length": "11" });
    const response = recordingResponse();

    await handler(request as never, response as never);

    expect(calls).toBe(0);
    expect(response.statusCode).toBe(413);
    expect(response.headers.connection).toBe("close");
    expect(JSON.parse(response.text).code).toBe(ErrorCode.PAYLOAD_TOO_LARGE);
    expect(JSON.parse(response.text).error).toBe(
      "[@mastra/inngest-serve] the request body must be at most maxBodyBytes (10) bytes, got 11 bytes; raise maxBodyBytes, or parse the body before serve with express.json({ limit })",
    );
  });

  it("stops buffering a chunked body once it passes the limit, and answers 413", async () => {
    const handler = withExpressJsonBody((_request: unknown, _response: unknown) => {}, 10);
    const request = expressRequest({ "transfer-encoding": "chunked" });
    const response = recordingResponse();
    const result = handler(request as never, response as never);
    request.write("x".repeat(8));
    request.write("x".repeat(8));

    await result;

    expect(response.statusCode).toBe(413);
    expect(request.listenerCount("data")).toBe(0);
  });

  it("answers 400 for a body that is not JSON and 415 for a compressed one", async () => {
    const handler = withExpressJsonBody((_request: unknown, _response: unknown) => {}, 1024);
    const invalid = expressRequest({ "content-length": "3" });
    const invalidResponse = recordingResponse();
    const invalidResult = handler(invalid as never, invalidResponse as never);
    invalid.end("{x}");
    await invalidResult;
    expect(invalidResponse.statusCode).toBe(400);
    expect(JSON.parse(invalidResponse.text)).toMatchObject({
      error: expect.stringContaining("the request body must be JSON"),
      code: ErrorCode.INVALID_REQUEST_BODY,
    });

    const compressed = expressRequest({ "content-length": "3", "content-encoding": "gzip" });
    const compressedResponse = recordingResponse();
    await handler(compressed as never, compressedResponse as never);
    expect(compressedResponse.statusCode).toBe(415);
  });
});
