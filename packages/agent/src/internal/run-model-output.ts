import { type ChunkType, MastraModelOutput } from "@mastra/core/stream";

/**
 * The plain agent's output class, fed by the run's topic, where two things come out as the plain
 * output gives them:
 * - The text of a run whose output processors sent a step back (`abort(reason, { retry: true })`):
 *   without the rejected attempts. The plain output reads its text from the message list, where
 *   the retry removed them; this one is told which steps were kept.
 * - With `structuredOutput` (no structuring model), the streams give `object-result` before the
 *   last `step-finish` and `finish`. The plain loop structures each LLM step's text as the step
 *   ends; this output structures the run's text when the run's `finish` reaches it, so its streams
 *   hold the last step's end back until then (the `finish` follows it at once).
 */
export class RunModelOutput<OUTPUT> extends MastraModelOutput<OUTPUT> {
  #retried = false;
  #keptText = "";
  #structuresText = false;

  /** Marks the run as one whose text this output structures (`structuredOutput` with no model). */
  structuresText(): void {
    this.#structuresText = true;
  }

  override get fullStream(): ReadableStream<ChunkType<OUTPUT>> {
    const stream = super.fullStream;
    return this.#structuresText ? stream.pipeThrough(structuredBeforeStepEnd<ChunkType<OUTPUT>>()) : stream;
  }

  /** Records the end of a step with its text, and whether an output processor sent it back. */
  stepEnded(text: string, sentBack: boolean): void {
    if (sentBack) {
      this.#retried = true;
    } else {
      this.#keptText += text;
    }
  }

  /** The text of the steps that were kept, when a step was sent back; otherwise undefined. */
  get keptText(): string | undefined {
    return this.#retried ? this.#keptText : undefined;
  }

  override get text(): Promise<string> {
    const kept = this.keptText;
    return kept === undefined ? super.text : super.text.then(() => kept);
  }
}

/**
 * Moves what the output's structuring adds after the run's `finish` (`object-result`, or the
 * `error` of an object that does not validate) before the last `step-finish` and that `finish`,
 * where the plain loop streams it.
 */
export function structuredBeforeStepEnd<T extends { type: string }>(): TransformStream<T, T> {
  let held: T[] = [];
  const release = (controller: TransformStreamDefaultController<T>) => {
    for (const chunk of held) {
      controller.enqueue(chunk);
    }
    held = [];
  };
  return new TransformStream<T, T>({
    transform(chunk, controller) {
      const last = held.at(-1);
      if (last?.type === "finish") {
        controller.enqueue(chunk);
        return;
      }
      if (last !== undefined && chunk.type === "finish") {
        held.push(chunk);
        return;
      }
      release(controller);
      if (chunk.type === "step-finish" && isLastStepEnd(chunk)) {
        held.push(chunk);
        return;
      }
      controller.enqueue(chunk);
    },
    flush(controller) {
      release(controller);
    },
  });
}

/** Whether a `step-finish` ends the run's last step: nothing continues after it. */
function isLastStepEnd(chunk: { type: string }): boolean {
  const { payload } = chunk as { payload?: { stepResult?: { isContinued?: boolean } } };
  return payload?.stepResult?.isContinued === false;
}
