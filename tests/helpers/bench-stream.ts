/** A stream as the servers under test send it: frames whose JSON text starts with `~<seq> <ns> `. */
export function benchStream(lines: number): Buffer {
  let text = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\nretry: 3000\n\n';
  for (let seq = 1; seq <= lines; seq += 1) {
    text += `id: b-${seq}-${seq}\nevent: log\ndata: {"build":"x","text":"~${seq} ${1000 + seq} abcdef","eol":true}\n\n`;
  }
  return Buffer.from(text + 'id: b-end\nevent: end\ndata: {}\n\n');
}

/** The buffer cut every `step` bytes, as a socket might deliver it. */
export function cutEvery(data: Buffer, step: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length; at += step) chunks.push(data.subarray(at, Math.min(data.length, at + step)));
  return chunks;
}
