/** Split a byte stream into lines as chunks arrive: a partial last line waits for its newline. */
export function lineSplitter(line: (text: string) => void): { push(chunk: Buffer | string): void; flush(): void } {
  let rest = '';
  return {
    push(chunk) {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) line(part.replace(/\r$/, ''));
    },
    flush() {
      if (rest !== '') line(rest.replace(/\r$/, ''));
      rest = '';
    },
  };
}
