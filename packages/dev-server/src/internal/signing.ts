import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import canonicalize from "canonicalize";

/** How far a signature's timestamp may be from now before it is rejected, in milliseconds. */
export const signatureToleranceMs: number = 5 * 60 * 1_000;

const signingKeyPrefixPattern = /^signkey-\w+-/;

/**
 * Returns the `X-Inngest-Signature` header value (`t=<unix seconds>&s=<hex>`) that the Inngest SDK
 * accepts for a request with this `body`. The HMAC-SHA256 is keyed by the signing key without its
 * `signkey-<env>-` prefix and covers the JCS-canonical form of the parsed body followed by the
 * timestamp, because the SDK re-serializes the body before checking. `nowMs` defaults to now.
 * Throws when a non-empty body is not JSON.
 */
export function signBody(body: string, signingKey: string, nowMs: number = Date.now()): string {
  const timestamp = Math.floor(nowMs / 1_000).toString();
  return `t=${timestamp}&s=${hmacHex(signingKey, canonicalMessage(body) + timestamp)}`;
}

/**
 * Reports whether `header` is a valid `X-Inngest-Signature` for `body` under any of `signingKeys`,
 * with a timestamp within five minutes of `nowMs` (default now). Both signed forms the SDK uses are
 * accepted: the canonical form of the parsed body (how the SDK checks requests) and the body
 * exactly as sent (how the SDK signs its responses). Keys that are empty after the prefix are
 * ignored, since anyone could sign with them. Comparison is constant-time.
 */
export function verifySignature(
  header: string | null | undefined,
  body: string,
  signingKeys: readonly string[],
  nowMs: number = Date.now(),
): boolean {
  if (!header) {
    return false;
  }
  const parameters = new URLSearchParams(header);
  const timestamp = parameters.get("t") ?? "";
  const signature = parameters.get("s") ?? "";
  if (!/^\d+$/.test(timestamp) || signature === "") {
    return false;
  }
  if (Math.abs(nowMs - Number(timestamp) * 1_000) > signatureToleranceMs) {
    return false;
  }
  const messages = new Set([body]);
  const canonical = tryCanonicalMessage(body);
  if (canonical !== undefined) {
    messages.add(canonical);
  }
  let matched = false;
  for (const signingKey of signingKeys.filter(hasSecret)) {
    for (const message of messages) {
      // Every candidate is checked, even after a match, so timing does not reveal which key matched.
      matched = constantTimeEqual(hmacHex(signingKey, message + timestamp), signature) || matched;
    }
  }
  return matched;
}

/**
 * Returns the bearer token the SDK sends to the Inngest API for `signingKey`: the `signkey-<env>-`
 * prefix, then the SHA-256 hex of the rest decoded from hex. Mirrors the SDK's `hashSigningKey`
 * byte for byte, including how it decodes keys that are not clean hex; the empty key gives "".
 */
export function hashSigningKey(signingKey: string): string {
  if (signingKey === "") {
    return "";
  }
  const prefix = signingKeyPrefixPattern.exec(signingKey)?.[0] ?? "";
  const digest = createHash("sha256")
    .update(decodeHexLikeTheSdk(signingKey.slice(prefix.length)))
    .digest("hex");
  return prefix + digest;
}

/**
 * Reports whether an `Authorization` header is `Bearer <hashSigningKey(key)>` for any key in
 * `signingKeys` that is not empty after its prefix. Comparison is constant-time. With no keys nothing is authorized; an engine
 * in dev mode should skip the check instead, since dev SDKs send `Bearer` or `Bearer undefined`.
 */
export function isAuthorizedBearer(header: string | undefined, signingKeys: readonly string[]): boolean {
  const token = /^Bearer +(\S+)$/i.exec(header?.trim() ?? "")?.[1];
  if (token === undefined) {
    return false;
  }
  let matched = false;
  for (const signingKey of signingKeys.filter(hasSecret)) {
    matched = constantTimeEqual(hashSigningKey(signingKey), token) || matched;
  }
  return matched;
}

function secretOf(signingKey: string): string {
  return signingKey.replace(signingKeyPrefixPattern, "");
}

function hasSecret(signingKey: string): boolean {
  return secretOf(signingKey) !== "";
}

function hmacHex(signingKey: string, message: string): string {
  return createHmac("sha256", secretOf(signingKey)).update(message).digest("hex");
}

// The SDK signs an empty body as "", and a body that parses to a string as that string unquoted.
function canonicalMessage(body: string): string {
  if (body === "") {
    return "";
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new Error("[@mastra/inngest-dev-server] cannot sign a request body that is not JSON", { cause: error });
  }
  return typeof parsed === "string" ? parsed : (canonicalize(parsed) ?? "");
}

function tryCanonicalMessage(body: string): string | undefined {
  try {
    return canonicalMessage(body);
  } catch {
    return undefined;
  }
}

function constantTimeEqual(expected: string, actual: string): boolean {
  const expectedBytes = Buffer.from(expected);
  const actualBytes = Buffer.from(actual);
  return expectedBytes.length === actualBytes.length && timingSafeEqual(expectedBytes, actualBytes);
}

// The SDK decodes with hash.js: characters outside [a-z0-9] are dropped, an odd length gets a
// leading "0", and a pair that is not hex becomes its parsed prefix or 0.
function decodeHexLikeTheSdk(text: string): Uint8Array {
  let digits = text.replace(/[^a-z0-9]+/gi, "");
  if (digits.length % 2 !== 0) {
    digits = `0${digits}`;
  }
  const bytes = new Uint8Array(digits.length / 2);
  for (let index = 0; index < bytes.length; index += 1) {
    bytes[index] = Number.parseInt(digits.slice(index * 2, index * 2 + 2), 16) || 0;
  }
  return bytes;
}
