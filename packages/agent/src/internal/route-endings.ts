import type { Event, EventCallback } from "@mastra/core/events";

/**
 * Mastra's server ends the stream of its `observe` route at a `finish` or an `error` event only. A
 * durable run that was aborted ends at its `abort` event, after which nothing comes, so a reader of
 * the route would wait for the route's idle timeout (five minutes). For subscribers from outside
 * this package, an `abort` event is followed by the `finish` that the run's own output writes
 * after an abort, as the plain loop does; the stored history is unchanged.
 */
export class RouteEndings {
  readonly #wrapped = new WeakMap<EventCallback, EventCallback>();

  /** The callback to subscribe in place of `callback`: the same one for the same callback. */
  wrap(callback: EventCallback): EventCallback {
    let wrapped = this.#wrapped.get(callback);
    if (wrapped === undefined) {
      wrapped = async (event, ack, nack) => {
        await callback(event, ack, nack);
        if (event.type === "abort") {
          await callback(finishAfterAbort(event));
        }
      };
      this.#wrapped.set(callback, wrapped);
    }
    return wrapped;
  }

  /** What was subscribed for `callback`, to unsubscribe it. */
  subscribed(callback: EventCallback): EventCallback {
    return this.#wrapped.get(callback) ?? callback;
  }
}

function finishAfterAbort(abort: Event): Event {
  return {
    type: "finish",
    id: `${abort.id}:finish`,
    runId: abort.runId,
    createdAt: abort.createdAt,
    data: { stepResult: { reason: "tripwire", isContinued: false } },
  };
}
