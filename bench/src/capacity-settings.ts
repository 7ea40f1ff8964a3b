/** A capacity run's stream topic, by its number. */
export function capacityRunTopic(index: number): string {
  return `agent.stream.capacity-${index}`;
}

/** 20 chunks a second per run. */
export const chunkIntervalMs = 50;

/** Chunks per step: a step's publisher is flushed after this many, as a step ends. */
export const chunksPerStep = 20;

/** About 30 tokens of text per chunk. */
export const chunkText: string = "the quick brown fox jumps over the lazy dog ".repeat(3).trim();
