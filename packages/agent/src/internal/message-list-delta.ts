/**
 * How a step's serialized message list differs from the one it started from. The loop memoizes
 * this instead of the whole list, so the conversation is stored once across a run's step outputs
 * rather than once per LLM and mapping step.
 */
export type MessageListDelta = Record<string, FieldChange>;

/**
 * One top-level field of the serialized list: gone, replaced, grown at its end, or (for the
 * `messages` array) changed message by message.
 */
export type FieldChange = { unset: true } | { set: unknown } | { append: unknown[] } | { messages: MessagesChange };

/** Messages are matched by id: the new and changed ones travel whole, the others by reference. */
export interface MessagesChange {
  /** Ids of the base's messages that are gone. */
  removed: string[];
  /** Messages that are new or differ from the base's message of the same id. */
  upserts: Array<{ id: string }>;
  /** The final order of ids, only when it is not "the base's order, then the new ones". */
  order?: string[];
}

type Serialized = Record<string, unknown>;

/**
 * The delta that turns `base` into `next`. `next` is compared in its JSON form, since that is what
 * a replay of the run reads back from Inngest.
 */
export function diffMessageList(base: unknown, next: unknown): MessageListDelta {
  const before = asRecord(base);
  const after = asRecord(JSON.parse(JSON.stringify(next ?? {})));
  const delta: MessageListDelta = {};
  for (const key of Object.keys(before)) {
    if (!Object.hasOwn(after, key)) {
      delta[key] = { unset: true };
    }
  }
  for (const [key, value] of Object.entries(after)) {
    const previous = before[key];
    if (sameJson(previous, value)) {
      continue;
    }
    delta[key] =
      key === "messages" && isMessageArray(previous) && isMessageArray(value)
        ? { messages: diffMessages(previous, value) }
        : diffValue(previous, value);
  }
  return delta;
}

/** Rebuilds the list a delta was made from `base` for. */
export function applyMessageListDelta(base: unknown, delta: MessageListDelta): Serialized {
  const result: Serialized = { ...asRecord(base) };
  for (const [key, change] of Object.entries(delta)) {
    if ("unset" in change) {
      delete result[key];
    } else if ("set" in change) {
      result[key] = change.set;
    } else if ("append" in change) {
      result[key] = [...((result[key] as unknown[] | undefined) ?? []), ...change.append];
    } else {
      result[key] = applyMessages((result[key] as Array<{ id: string }> | undefined) ?? [], change.messages);
    }
  }
  return result;
}

function diffValue(previous: unknown, value: unknown): FieldChange {
  if (Array.isArray(previous) && Array.isArray(value) && value.length >= previous.length) {
    // Id lists such as `newResponseMessages` only grow during a run: send the new tail.
    if (previous.every((item, index) => sameJson(item, value[index]))) {
      return { append: value.slice(previous.length) };
    }
  }
  return { set: value };
}

function diffMessages(previous: Array<{ id: string }>, next: Array<{ id: string }>): MessagesChange {
  const before = new Map(previous.map((message) => [message.id, message]));
  const nextIds = new Set(next.map((message) => message.id));
  const removed = previous.filter((message) => !nextIds.has(message.id)).map((message) => message.id);
  const upserts = next.filter((message) => !sameJson(before.get(message.id), message));
  const change: MessagesChange = { removed, upserts };
  const expectedOrder = [
    ...previous.filter((message) => nextIds.has(message.id)).map((message) => message.id),
    ...next.filter((message) => !before.has(message.id)).map((message) => message.id),
  ];
  const order = next.map((message) => message.id);
  if (!sameJson(expectedOrder, order)) {
    change.order = order;
  }
  return change;
}

function applyMessages(previous: Array<{ id: string }>, change: MessagesChange): Array<{ id: string }> {
  const removed = new Set(change.removed);
  const byId = new Map(previous.filter((message) => !removed.has(message.id)).map((message) => [message.id, message]));
  const appended: string[] = [];
  for (const message of change.upserts) {
    if (!byId.has(message.id)) {
      appended.push(message.id);
    }
    byId.set(message.id, message);
  }
  const order = change.order ?? [
    ...previous.filter((message) => !removed.has(message.id)).map((message) => message.id),
    ...appended,
  ];
  return order.map((id) => byId.get(id) as { id: string });
}

function isMessageArray(value: unknown): value is Array<{ id: string }> {
  if (!Array.isArray(value)) {
    return false;
  }
  const ids = new Set<string>();
  for (const item of value) {
    const id = (item as { id?: unknown } | null)?.id;
    if (typeof id !== "string" || ids.has(id)) {
      // Without unique ids messages cannot be matched: the field is then sent whole.
      return false;
    }
    ids.add(id);
  }
  return true;
}

function asRecord(value: unknown): Serialized {
  return value !== null && typeof value === "object" ? (value as Serialized) : {};
}

function sameJson(left: unknown, right: unknown): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}
