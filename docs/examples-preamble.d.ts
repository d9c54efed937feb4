// What the example fragments of README.md and docs/*.md use without defining it. A fragment shows
// one call, not a whole app: it assumes an open connection and the app's own data. `npm test`
// (test/doc-examples.test.ts) type-checks every ```js and ```ts block of those files under
// `tsc --strict`, without skipLibCheck, with the device declarations (nats-xs/device) and this
// file; a block that imports and connects defines its own `nc`, which hides the one here.
import type { NatsConnection } from "nats-xs";
import type { EnvelopeCallback, PayloadInput, PayloadSource, SinkFactory } from "nats-xs/bridge";

declare global {
  /** An open connection: `const nc = await connect({ servers: "nats://10.0.0.2:4222" })`. */
  const nc: NatsConnection;
  /** The server URL(s) of the app's configuration. */
  const servers: string | string[];
  /** A `.creds` file's bytes, read from flash. */
  const credsFileBytes: Uint8Array;
  /** A camera frame (JPEG) and its size. */
  const jpeg: Uint8Array;
  const jpegBytes: Uint8Array;
  const frameBytes: number;
  /** A camera that hands its frame over in pieces. */
  const camera: { pieces(): Iterable<Uint8Array>; read(offset: number, into: Uint8Array): number };
  /** A frame of `size` bytes that a PayloadSource reads from the camera. */
  const size: number;
  /** The same frame as a PayloadSource (`{ size, read(offset, into) }`). */
  const jpegSource: PayloadSource;
  /** A file being written in flash. */
  const file: { write(view: Uint8Array): void };
  /** Some JSON-able description of a message. */
  const meta: Record<string, unknown>;
  /** PEM text of a CA, a client certificate and its key. */
  const caPem: string;
  const clientCertPem: string;
  const clientKeyPem: string;
  /** The payloads of a NATSBridge send, a receive callback and a payload sink. */
  const payloads: PayloadInput[];
  const callback: EnvelopeCallback;
  const sink: SinkFactory;
  /** Sample times (ms since the epoch) and temperatures of a reading table. */
  const times: number[];
  const temps: number[];
  /** The app's flash writer and the code that applies set points. */
  const flash: { write(offset: number, bytes: Uint8Array): void };
  function apply(values: ArrayLike<number | bigint | string | boolean | null>): void;
}
