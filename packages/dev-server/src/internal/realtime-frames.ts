import { randomBytes } from "node:crypto";

/** Where a message goes and where it came from, shared by every frame of one publish. */
export interface FrameAddress {
  /** The channel name, sent exactly as published. */
  channel: string;
  /** The topic name. */
  topic: string;
  /** The run that published, when known; sent as `run_id`. */
  runId: string | undefined;
  /** When the hub accepted the publish; sent as an ISO string in `created_at`. */
  createdAt: Date;
}

/** Size of one `chunk` frame of a streamed publish, in UTF-16 code units, as the real server's 1 KB reads. */
export const STREAM_CHUNK_LENGTH = 1024;

/**
 * The JSON text of a publish body: the body itself when it is valid JSON, which keeps it byte for
 * byte (large integers included), otherwise the body as a JSON string. So the string `123` arrives
 * as the number 123, as it does from the real server.
 */
export function publishBodyToJson(body: string): string {
  try {
    JSON.parse(body);
    return body;
  } catch {
    return JSON.stringify(body);
  }
}

/** The JSON text of a value the engine publishes itself; `undefined` becomes `null`. */
export function valueToJson(data: unknown): string {
  return JSON.stringify(data) ?? "null";
}

/** One `data` frame: `{"kind":"data","data":…,"created_at":…,"channel":…,"topic":…,"run_id"?:…}`. */
export function dataFrame(address: FrameAddress, dataJson: string): string {
  return frame("data", dataJson, address);
}

/**
 * The frames of a streamed publish (`Content-Type: text/stream`): `datastream-start` carrying a new
 * stream id, one `chunk` per {@link STREAM_CHUNK_LENGTH} of the body, then `datastream-end`. The
 * chunks carry the channel and topic too, because both SDK clients drop frames without them.
 */
export function streamFrames(address: FrameAddress, body: string): string[] {
  // The real server's stream ids are hex and must not contain a colon.
  const streamId = randomBytes(8).toString("hex");
  const streamIdJson = JSON.stringify(streamId);
  const frames = [frame("datastream-start", streamIdJson, address)];
  for (const piece of splitText(body, STREAM_CHUNK_LENGTH)) {
    frames.push(frame("chunk", JSON.stringify(piece), address, streamIdJson));
  }
  frames.push(frame("datastream-end", streamIdJson, address));
  return frames;
}

function frame(kind: string, dataJson: string, address: FrameAddress, streamIdJson?: string): string {
  // Built by hand so that a JSON body is embedded as sent instead of parsed and serialized again.
  const streamId = streamIdJson === undefined ? "" : `,"stream_id":${streamIdJson}`;
  const runId = address.runId === undefined ? "" : `,"run_id":${JSON.stringify(address.runId)}`;
  return (
    `{"kind":${JSON.stringify(kind)}${streamId},"data":${dataJson},` +
    `"created_at":${JSON.stringify(address.createdAt.toISOString())},` +
    `"channel":${JSON.stringify(address.channel)},"topic":${JSON.stringify(address.topic)}${runId}}`
  );
}

/** Splits `text` into pieces of at most `length` code units without cutting a surrogate pair in two. */
function splitText(text: string, length: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + length, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && end - start > 1 && last >= 0xd800 && last <= 0xdbff) {
      end -= 1;
    }
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}
