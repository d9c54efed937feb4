// MSG frames for the parser benchmarks (bench/xs-parser.mjs, bench/xs/msg-copy.mjs): as many frames
// of a `size`-byte payload on one subject as fit in `streamBytes` (at least one), back to back.
export function frames(size, streamBytes) {
  const head = `MSG sensors.temp.device-7 1 ${size}\r\n`;
  const frameLen = head.length + size + 2;
  const count = Math.max(1, Math.floor(streamBytes / frameLen));
  const out = new Uint8Array(frameLen * count);
  let p = 0;
  for (let k = 0; k < count; k++) {
    for (let i = 0; i < head.length; i++) out[p++] = head.charCodeAt(i);
    for (let i = 0; i < size; i++) out[p++] = 97 + (i % 26);
    out[p++] = 13;
    out[p++] = 10;
  }
  return out;
}
