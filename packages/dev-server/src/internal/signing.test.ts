import { createHmac } from "node:crypto";
import type { IncomingMessage, RequestListener } from "node:http";
import { type HttpTestServer, silentLogger, startHttpServer } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { serve } from "inngest/node";
import { afterEach, describe, expect, it } from "vitest";
import { hashSigningKey, isAuthorizedBearer, signatureToleranceMs, signBody, verifySignature } from "./signing.ts";

const signingKey = `signkey-test-${"0123456789abcdef".repeat(4)}`;
const otherKey = `signkey-test-${"fedcba9876543210".repeat(4)}`;
const now = Date.parse("2026-05-01T12:00:00.000Z");

describe("signBody", () => {
  it("returns t=<unix seconds>&s=<sha256 hex>", () => {
    expect(signBody('{"a":1}', signingKey, now + 999)).toMatch(new RegExp(`^t=${now / 1_000}&s=[0-9a-f]{64}$`));
  });

  it("signs the canonical JSON, so key order and whitespace do not matter", () => {
    const compact = signBody('{"b":1,"a":{"d":[1,2],"c":null}}', signingKey, now);
    const spaced = signBody('{ "a": { "c": null, "d": [1, 2.0] }, "b": 1 }', signingKey, now);
    expect(spaced).toBe(compact);
    expect(signBody('{"b":2,"a":{"d":[1,2],"c":null}}', signingKey, now)).not.toBe(compact);
  });

  it("keys the HMAC by the text after the signkey-<env>- prefix", () => {
    const body = '{"a":1}';
    expect(signBody(body, signingKey, now)).toBe(signBody(body, signingKey.replace("test", "prod"), now));
    expect(signBody(body, signingKey, now)).toBe(signBody(body, signingKey.slice("signkey-test-".length), now));
    expect(signBody(body, signingKey, now)).not.toBe(signBody(body, otherKey, now));
  });

  it("changes with the timestamp", () => {
    expect(signBody("{}", signingKey, now)).not.toBe(signBody("{}", signingKey, now + 1_000));
  });

  it("refuses a body that is not JSON", () => {
    expect(() => signBody("not json", signingKey, now)).toThrow("[@mastra/inngest-dev-server] cannot sign a request");
  });
});

describe("verifySignature", () => {
  const body = '{"event":{"name":"test/hello","data":{}}}';

  it("accepts its own signatures", () => {
    expect(verifySignature(signBody(body, signingKey, now), body, [signingKey], now)).toBe(true);
  });

  it("accepts a signature by any of the keys", () => {
    expect(verifySignature(signBody(body, otherKey, now), body, [signingKey, otherKey], now)).toBe(true);
  });

  it("rejects another key, a changed body and no keys", () => {
    const header = signBody(body, signingKey, now);
    expect(verifySignature(header, body, [otherKey], now)).toBe(false);
    expect(verifySignature(header, body.replace("hello", "hellO"), [signingKey], now)).toBe(false);
    expect(verifySignature(header, body, [], now)).toBe(false);
  });

  it("ignores keys with nothing after the prefix, since anyone can sign with them", () => {
    for (const emptyKey of ["", "signkey-test-"]) {
      expect(verifySignature(signBody(body, emptyKey, now), body, [emptyKey], now)).toBe(false);
    }
  });

  it("accepts a body re-serialized with the same canonical form", () => {
    const header = signBody(body, signingKey, now);
    expect(verifySignature(header, JSON.stringify(JSON.parse(body), null, 2), [signingKey], now)).toBe(true);
  });

  it("accepts a signature over the exact body text, as the SDK signs its responses", () => {
    const responseBody = '"hi"';
    const timestamp = (now / 1_000).toString();
    const hmac = createHmac("sha256", signingKey.slice("signkey-test-".length));
    const header = `t=${timestamp}&s=${hmac.update(responseBody + timestamp).digest("hex")}`;
    expect(verifySignature(header, responseBody, [signingKey], now)).toBe(true);
    expect(signBody(responseBody, signingKey, now)).not.toBe(header);
  });

  it("rejects timestamps more than five minutes away", () => {
    const header = signBody(body, signingKey, now);
    expect(signatureToleranceMs).toBe(300_000);
    expect(verifySignature(header, body, [signingKey], now + 300_000)).toBe(true);
    expect(verifySignature(header, body, [signingKey], now - 300_000)).toBe(true);
    expect(verifySignature(header, body, [signingKey], now + 301_000)).toBe(false);
    expect(verifySignature(header, body, [signingKey], now - 301_000)).toBe(false);
  });

  it.each([null, undefined, "", "t=&s=", "s=abc", `t=${now / 1_000}`, `t=abc&s=${"0".repeat(64)}`, "garbage"])(
    "rejects the malformed header %j",
    (header) => {
      expect(verifySignature(header, body, [signingKey], now)).toBe(false);
    },
  );

  it("rejects a signature of the wrong length without throwing", () => {
    const header = signBody(body, signingKey, now);
    expect(verifySignature(`${header}00`, body, [signingKey], now)).toBe(false);
    expect(verifySignature(header.slice(0, -2), body, [signingKey], now)).toBe(false);
  });
});

describe("hashSigningKey", () => {
  // Expected values computed with the SDK's own hashSigningKey (inngest 4.24.0, helpers/strings.js).
  it.each([
    [signingKey, "signkey-test-4884fdaafea47c29fea7159d0daddd9c085d6200e1359e85bb81736af6b7c837"],
    [`signkey-prod-${"f".repeat(64)}`, "signkey-prod-af9613760f72635fbdb44a5a0a63c39f12af30f950a6ee5c971be188e89c4051"],
    ["signkey-branch-ABCDEF12", "signkey-branch-1e0301bba7ee9fde317f514b2272c88fe5839ecd3bf60259f8433fdf22e21b0e"],
    ["0123abcd", "2647356804523c847ca70dc0f6c66a28d4cec5f53b9119a9022984ceec35e9da"],
    ["signkey-test-abc", "signkey-test-1870348e36542f82a2bb6b134f9bda817cbc1f946dda37a0cce5b5221b9f0304"],
    ["signkey-prod-xyz", "signkey-prod-96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"],
    ["signkey-test-1x2-3z", "signkey-test-a143e7ffd81147f136f921fef88760c46c7a05f15b81995f9c5cfed2a737a3f1"],
    ["", ""],
  ])("hashes %j as the SDK does", (key, expected) => {
    expect(hashSigningKey(key)).toBe(expected);
  });
});

describe("isAuthorizedBearer", () => {
  const token = hashSigningKey(signingKey);

  it("accepts the hashed key of any configured key", () => {
    expect(isAuthorizedBearer(`Bearer ${token}`, [signingKey])).toBe(true);
    expect(isAuthorizedBearer(`bearer ${token}`, [otherKey, signingKey])).toBe(true);
  });

  it.each([
    undefined,
    "",
    "Bearer",
    "Bearer undefined",
    `Bearer ${signingKey}`,
    `Bearer ${hashSigningKey(otherKey)}`,
    `Basic ${token}`,
    token,
    `Bearer ${token}x`,
  ])("rejects %j", (header) => {
    expect(isAuthorizedBearer(header, [signingKey])).toBe(false);
  });

  it("authorizes nothing without keys, even an empty token", () => {
    expect(isAuthorizedBearer(`Bearer ${token}`, [])).toBe(false);
    expect(isAuthorizedBearer("Bearer ", [""])).toBe(false);
    expect(isAuthorizedBearer(`Bearer ${hashSigningKey("signkey-test-")}`, ["signkey-test-"])).toBe(false);
  });
});

describe("against the real Inngest SDK", () => {
  const callBody =
    '{"event":{"name":"test/hello","data":{}},"events":[{"name":"test/hello","data":{}}],"steps":{},' +
    '"ctx":{"run_id":"01J00000000000000000000000","attempt":0,"max_attempts":4,"disable_immediate_execution":false,' +
    '"use_api":false,"stack":{"stack":[],"current":0}},"version":2}';
  const servers: HttpTestServer[] = [];

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  async function listen(listener: RequestListener): Promise<string> {
    const server = await startHttpServer(listener, { path: "/" });
    servers.push(server);
    return server.url;
  }

  async function serveApp(keys: {
    signingKey: string;
    signingKeyFallback?: string;
    baseUrl?: string;
  }): Promise<string> {
    // The SDK logs every rejected signature; the 401s here are expected.
    const inngest = new Inngest({ id: "signing-test", isDev: false, logger: silentLogger, ...keys });
    const hello = inngest.createFunction({ id: "hello", triggers: [{ event: "test/hello" }] }, async () => "hi");
    return await listen(serve({ client: inngest, functions: [hello] }));
  }

  async function call(appUrl: string, body: string, signature?: string): Promise<Response> {
    return await fetch(`${appUrl}?fnId=signing-test-hello&stepId=step`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(signature ? { "x-inngest-signature": signature } : {}) },
      body,
    });
  }

  it("runs a call signed with signBody and signs its response", async () => {
    const appUrl = await serveApp({ signingKey });
    const response = await call(appUrl, callBody, signBody(callBody, signingKey));
    const responseBody = await response.text();
    expect(response.status).toBe(200);
    expect(responseBody).toBe('"hi"');
    const responseSignature = response.headers.get("x-inngest-signature");
    expect(responseSignature).toMatch(/^t=\d+&s=[0-9a-f]{64}$/);
    expect(verifySignature(responseSignature, responseBody, [signingKey])).toBe(true);
    expect(verifySignature(responseSignature, responseBody, [otherKey])).toBe(false);
  });

  it("accepts a signature over a re-serialized body, because it checks the canonical form", async () => {
    const appUrl = await serveApp({ signingKey });
    const reordered = JSON.stringify(JSON.parse(callBody), null, 2);
    const response = await call(appUrl, reordered, signBody(callBody, signingKey));
    expect(response.status).toBe(200);
  });

  it("rejects unsigned, tampered and wrongly keyed calls with 401", async () => {
    const appUrl = await serveApp({ signingKey });
    const unsigned = await call(appUrl, callBody);
    expect(unsigned.status).toBe(401);
    expect(unsigned.headers.get("x-inngest-signature")).toBeNull();
    const tampered = await call(appUrl, callBody.replace('"attempt":0', '"attempt":1'), signBody(callBody, signingKey));
    expect(tampered.status).toBe(401);
    const otherKeyed = await call(appUrl, callBody, signBody(callBody, otherKey));
    expect(otherKeyed.status).toBe(401);
  });

  it("rejects a signature older than five minutes with 401", async () => {
    const appUrl = await serveApp({ signingKey });
    const response = await call(appUrl, callBody, signBody(callBody, signingKey, Date.now() - 6 * 60 * 1_000));
    expect(response.status).toBe(401);
  });

  it("accepts the previous key when it is listed as signingKeyFallback", async () => {
    const appUrl = await serveApp({ signingKey: otherKey, signingKeyFallback: signingKey });
    const response = await call(appUrl, callBody, signBody(callBody, signingKey));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('"hi"');
  });

  it("sends a bearer token that isAuthorizedBearer accepts, retrying with the fallback key", async () => {
    const authorizations: (string | undefined)[] = [];
    const acceptedKeys: string[] = [];
    const apiUrl = await listen((request: IncomingMessage, response) => {
      authorizations.push(request.headers.authorization);
      request.resume();
      const authorized = isAuthorizedBearer(request.headers.authorization, acceptedKeys);
      response.writeHead(authorized ? 200 : 401, { "content-type": "application/json" });
      response.end(JSON.stringify(authorized ? { ok: true, modified: true } : { error: "unauthorized" }));
    });
    const appUrl = await serveApp({ signingKey: otherKey, signingKeyFallback: signingKey, baseUrl: apiUrl });

    acceptedKeys.push(otherKey);
    expect((await fetch(appUrl, { method: "PUT" })).status).toBe(200);
    expect(authorizations).toEqual([`Bearer ${hashSigningKey(otherKey)}`]);

    authorizations.length = 0;
    acceptedKeys.splice(0, acceptedKeys.length, signingKey);
    expect((await fetch(appUrl, { method: "PUT" })).status).toBe(200);
    expect(authorizations).toEqual([`Bearer ${hashSigningKey(otherKey)}`, `Bearer ${hashSigningKey(signingKey)}`]);
  });
});
