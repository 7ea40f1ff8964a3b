// Output helpers: streamed text and status lines interleave, so the writer tracks where the line is.

const colors = process.stdout.isTTY === true && !process.env.CI && !process.env.NO_COLOR;

const paint =
  (code: number) =>
  (text: string): string =>
    colors ? `\u001b[${code}m${text}\u001b[0m` : text;

export const bold: (text: string) => string = paint(1);
export const dim: (text: string) => string = paint(2);
export const red: (text: string) => string = paint(31);
export const green: (text: string) => string = paint(32);
export const yellow: (text: string) => string = paint(33);
export const cyan: (text: string) => string = paint(36);

let atLineStart = true;

/** Writes streamed text, indented by two spaces. */
export function writeText(text: string): void {
  for (const part of text.split(/(\n)/)) {
    if (part === "") {
      continue;
    }
    if (atLineStart && part !== "\n") {
      process.stdout.write("  ");
    }
    process.stdout.write(part);
    atLineStart = part === "\n";
  }
}

/** Writes a line of its own, ending the streamed text's line first if needed. */
export function writeLine(line = ""): void {
  if (!atLineStart) {
    process.stdout.write("\n");
  }
  process.stdout.write(`${line}\n`);
  atLineStart = true;
}

/** `1 call`, `2 calls`. */
export function count(amount: number, noun: string): string {
  return `${amount} ${noun}${amount === 1 ? "" : "s"}`;
}
