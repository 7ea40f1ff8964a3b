import { MastraModelOutput } from "@mastra/core/stream";

/**
 * The plain agent's output class, with the text of a run whose output processors sent a step back
 * (`abort(reason, { retry: true })`) as the plain output gives it: without the rejected attempts.
 * The plain output reads its text from the message list, where the retry removed them; this one
 * is fed by the run's topic, so it is told which steps were kept. Every other run reads the text as
 * the class does.
 */
export class RunModelOutput<OUTPUT> extends MastraModelOutput<OUTPUT> {
  #retried = false;
  #keptText = "";

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
