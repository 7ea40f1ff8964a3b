import type { Event } from "@mastra/core/events";

/**
 * One line per stored event, for reports and dumps: index, type, producer (`step@attempt#sequence`),
 * the chunk's type, its text or tool call id, and the time it was stored (UTC, to the millisecond).
 */
export function describeEvent(event: Event): string {
  const producer = (event as { producer?: { stepId: string; attempt: number; sequence: number } }).producer;
  const chunk = event.data as { type?: string; payload?: { text?: string; toolCallId?: string } } | undefined;
  return [
    event.index,
    event.type,
    producer === undefined ? "-" : `${producer.stepId}@${producer.attempt}#${producer.sequence}`,
    event.type === "chunk" ? chunk?.type : "",
    chunk?.payload?.text ?? chunk?.payload?.toolCallId ?? "",
    new Date(event.createdAt).toISOString().slice(11, 23),
  ].join(" ");
}
