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

/**
 * Messages are matched by id: new ones travel whole, changed ones as a patch of their JSON (an
 * assistant message grows by parts with every step of a run, and travels by its new parts only),
 * the others by reference.
 */
export interface MessagesChange {
  /** Ids of the base's messages that are gone. */
  removed: string[];
  /** Messages that are new. */
  upserts: Array<{ id: string }>;
  /** Changes to the base's messages of the same id. */
  patches?: Array<{ id: string; patch: ValuePatch }>;
  /** The final order of ids, only when it is not "the base's order, then the new ones". */
  order?: string[];
}

/**
 * How one JSON value became another: replaced, an array's changed items and new tail (a tool
 * call's part turns into its result, the step's parts follow), or an object's changed fields.
 */
export type ValuePatch =
  | { set: unknown }
  | { items: Record<string, ValuePatch>; append?: unknown[] }
  | { fields: Record<string, ValuePatch>; unset?: string[] };

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
    if (key === "messages" && isMessageArray(previous) && isMessageArray(value)) {
      // Compared message by message only: the whole list is not encoded to find it changed.
      const messages = diffMessages(previous, value);
      if (!isEmptyChange(messages)) {
        delta[key] = { messages };
      }
      continue;
    }
    if (sameJson(previous, value)) {
      continue;
    }
    delta[key] = diffValue(previous, value);
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
  const upserts = next.filter((message) => !before.has(message.id));
  const patches = next.flatMap((message) => {
    const previousMessage = before.get(message.id);
    const patch = previousMessage === undefined ? undefined : diffJson(previousMessage, message);
    return patch === undefined ? [] : [{ id: message.id, patch }];
  });
  const change: MessagesChange = { removed, upserts, ...(patches.length === 0 ? {} : { patches }) };
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

/** Whether a messages change changes nothing. */
function isEmptyChange(change: MessagesChange): boolean {
  return (
    change.removed.length === 0 &&
    change.upserts.length === 0 &&
    change.patches === undefined &&
    change.order === undefined
  );
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
  for (const { id, patch } of change.patches ?? []) {
    byId.set(id, applyPatch(byId.get(id), patch) as { id: string });
  }
  const order = change.order ?? [
    ...previous.filter((message) => !removed.has(message.id)).map((message) => message.id),
    ...appended,
  ];
  return order.map((id) => byId.get(id) as { id: string });
}

/** The patch that turns `previous` into `next` (both JSON), or undefined when they are the same. */
function diffJson(previous: unknown, next: unknown): ValuePatch | undefined {
  if (sameJson(previous, next)) {
    return undefined;
  }
  if (Array.isArray(previous) && Array.isArray(next)) {
    if (next.length < previous.length) {
      return { set: next };
    }
    const items: Record<string, ValuePatch> = {};
    previous.forEach((item, index) => {
      const patch = diffJson(item, next[index]);
      if (patch !== undefined) {
        items[index] = patch;
      }
    });
    const tail = next.slice(previous.length);
    return { items, ...(tail.length === 0 ? {} : { append: tail }) };
  }
  if (isPlainObject(previous) && isPlainObject(next)) {
    const fields: Record<string, ValuePatch> = {};
    for (const [key, value] of Object.entries(next)) {
      const patch = diffJson(previous[key], value);
      if (patch !== undefined) {
        fields[key] = patch;
      }
    }
    const unset = Object.keys(previous).filter((key) => !Object.hasOwn(next, key));
    return { fields, ...(unset.length === 0 ? {} : { unset }) };
  }
  return { set: next };
}

/** `value` with a patch applied; `value` itself is left as it was. */
function applyPatch(value: unknown, patch: ValuePatch): unknown {
  if ("set" in patch) {
    return patch.set;
  }
  if ("items" in patch) {
    const items = [...(Array.isArray(value) ? value : [])];
    for (const [index, itemPatch] of Object.entries(patch.items)) {
      items[Number(index)] = applyPatch(items[Number(index)], itemPatch);
    }
    return [...items, ...(patch.append ?? [])];
  }
  const result: Record<string, unknown> = { ...(isPlainObject(value) ? value : {}) };
  for (const key of patch.unset ?? []) {
    delete result[key];
  }
  for (const [key, fieldPatch] of Object.entries(patch.fields)) {
    result[key] = applyPatch(result[key], fieldPatch);
  }
  return result;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Date);
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
