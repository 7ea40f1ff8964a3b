/** A seeded source of random numbers: the same seed gives the same sequence in every process. */
export interface Random {
  /** The seed this source started from. */
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [minimum, maximum], both included. */
  integer(minimum: number, maximum: number): number;
  /** True with the given probability. */
  chance(probability: number): boolean;
  /** One element of a non-empty list. */
  pick<Item>(items: readonly Item[]): Item;
  /** A new source whose sequence depends only on this seed and `label`, so streams stay independent. */
  fork(label: string): Random;
}

/**
 * mulberry32: a 32-bit generator, small and fast, good enough to drive a workload. Each part of the
 * suite forks its own source by label, so adding a draw in one part leaves the others' sequences as
 * they were and a seed keeps replaying the same workload and schedule.
 *
 * @example
 * const random = createRandom(42);
 * random.integer(1, 6); // the same number for seed 42, every time
 */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    seed,
    next,
    integer: (minimum, maximum) => minimum + Math.floor(next() * (maximum - minimum + 1)),
    chance: (probability) => next() < probability,
    pick: (items) => items[Math.floor(next() * items.length)] as (typeof items)[number],
    fork: (label) => createRandom(hash(`${seed}:${label}`)),
  };
}

/** A seed from the environment (`CHAOS_SEED`), else a fresh one. */
export function chooseSeed(environment: NodeJS.ProcessEnv = process.env): number {
  const given = environment.CHAOS_SEED;
  if (given !== undefined && given !== "") {
    const parsed = Number(given);
    if (!Number.isInteger(parsed) || parsed < 0 || parsed > 4_294_967_295) {
      throw new Error(`[@mastra/inngest-chaos] CHAOS_SEED must be an integer from 0 to 4294967295, got ${given}`);
    }
    return parsed;
  }
  return Math.floor(Math.random() * 4_294_967_296);
}

function hash(text: string): number {
  let value = 2_166_136_261;
  for (let position = 0; position < text.length; position++) {
    value = Math.imul(value ^ text.charCodeAt(position), 16_777_619);
  }
  return value >>> 0;
}
