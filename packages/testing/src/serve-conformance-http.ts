/** A response read whole: status, headers and the body parsed as JSON when it is JSON. */
export interface ReadResponse {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown>;
}

const runEndedStatuses = new Set(["Completed", "Failed", "Cancelled"]);

/** Sends a request and reads the whole response, so no socket stays half-read. */
export async function request(url: string, init: RequestInit = {}): Promise<ReadResponse> {
  const response = await fetch(url, init);
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    json = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    // Not JSON: `text` holds it.
  }
  return { status: response.status, headers: response.headers, text, json };
}

/**
 * The out-of-band sync Inngest sends to an app: a PUT to its serve URL, after which the SDK
 * registers its functions with the engine it is configured with.
 */
export function syncApp(serveUrl: string, mode: "dev" | "cloud"): Promise<ReadResponse> {
  return request(serveUrl, { method: "PUT", headers: { "x-inngest-server-kind": mode } });
}

/** An in-band sync: the SDK answers with its registration (app id, functions) in the body. */
export function syncInBand(serveUrl: string, signature?: string): Promise<ReadResponse> {
  const body = JSON.stringify({ url: serveUrl });
  return request(serveUrl, {
    method: "PUT",
    headers: {
      "content-type": "application/json",
      "x-inngest-sync-kind": "in_band",
      ...(signature === undefined ? {} : { "x-inngest-signature": signature }),
    },
    body,
  });
}

/** Posts a call to function `functionId` (its composite id) at the serve URL. */
export function callFunction(
  serveUrl: string,
  functionId: string,
  body: string,
  signature?: string,
): Promise<ReadResponse> {
  const url = new URL(serveUrl);
  url.searchParams.set("fnId", functionId);
  url.searchParams.set("stepId", "step");
  return request(url.toString(), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(signature === undefined ? {} : { "x-inngest-signature": signature }),
    },
    body,
  });
}

/** Sends one event through the engine's event API; resolves to its id. */
export async function sendEvent(engineUrl: string, name: string, data: Record<string, unknown>): Promise<string> {
  const response = await request(`${engineUrl}/e/conformance-event-key`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify([{ name, data }]),
  });
  const id = (response.json.ids as unknown[] | undefined)?.[0];
  if (response.status !== 200 || typeof id !== "string") {
    throw new Error(`the engine refused the event ${name}: ${response.status} ${response.text.slice(0, 300)}`);
  }
  return id;
}

/** A run as Inngest's REST API shows it. */
export interface EngineRun {
  run_id: string;
  status: string;
  output?: unknown;
}

/** Polls the engine's REST API until the run started by `eventId` has ended. */
export async function waitForRunOfEvent(engineUrl: string, eventId: string, timeoutMs: number): Promise<EngineRun> {
  const deadline = Date.now() + timeoutMs;
  let last: EngineRun | undefined;
  while (Date.now() < deadline) {
    const runs = await request(`${engineUrl}/v1/events/${encodeURIComponent(eventId)}/runs`);
    const run = (runs.json.data as EngineRun[] | undefined)?.[0];
    if (run !== undefined) {
      const current = await request(`${engineUrl}/v1/runs/${encodeURIComponent(run.run_id)}`);
      last = (current.json.data as EngineRun | undefined) ?? run;
      if (runEndedStatuses.has(last.status)) {
        return last;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(
    `the run started by event ${eventId} did not end within ${timeoutMs} ms (last status: ${last?.status ?? "no run"})`,
  );
}
