/** Keeps the last `max` bytes of a stream (stderr), for error messages. */
export class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly max = 4096) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.max && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
    }
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    return all
      .subarray(Math.max(0, all.length - this.max))
      .toString('utf8')
      .trim();
  }
}
