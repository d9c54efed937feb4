// Device modules as Moddable SDK 8.x defines them, where @moddable/typings 5.6.0 is older or absent.
// These declarations are the whole seam between firmware/ and its host: the Moddable runtime on a
// board, host-sim/ on Node, and tools/xs/ on the XS engine all implement exactly this surface.

declare module "embedded:io/socket/tcp" {
  /** Anything the socket can write from or read into. */
  export type BufferSource = ArrayBuffer | Uint8Array | DataView;

  export interface TCPOptions {
    /** IPv4 literal: the socket does not resolve names. */
    address: string;
    port: number;
    nodelay?: boolean;
    format?: "buffer" | "number";
    /** Bytes now buffered for read(); called again only when more arrive. */
    onReadable?: (this: TCP, count: number) => void;
    /** Free space in the send buffer; fires first when the connection is established. */
    onWritable?: (this: TCP, count: number) => void;
    /** No detail; fires on any close, only after buffered reads were drained. */
    onError?: (this: TCP) => void;
  }

  export default class TCP {
    constructor(options: TCPOptions);
    /** With no argument: an ArrayBuffer of all buffered bytes (undefined when none).
     *  With a number: exactly that many bytes. With a view: fills the whole view and returns its
     *  length; throws when fewer bytes are buffered than asked for. */
    read(): ArrayBuffer | undefined;
    read(count: number): ArrayBuffer;
    read(into: Uint8Array): number;
    /** Copies the whole buffer into the send buffer and returns the free space left; throws
     *  ("would block") when it does not fit. Never a partial write. Returns undefined, writing
     *  nothing, when the connection has failed but onError has not been delivered yet. */
    write(data: BufferSource): number | undefined;
    close(): void;
    readonly remoteAddress?: string;
    readonly remotePort?: number;
  }
}

declare module "embedded:io/socket/udp" {
  export default class UDP {
    constructor(options: {
      port?: number;
      onReadable?: (this: UDP, count: number) => void;
      onError?: (this: UDP) => void;
    });
    write(data: ArrayBuffer | Uint8Array, address: string, port: number): void;
    read(): ArrayBuffer | undefined;
    close(): void;
  }
}

declare module "embedded:network/dns/resolver/udp" {
  import type UDP from "embedded:io/socket/udp";
  export interface ResolveRequest {
    host: string;
    onResolved(this: Resolver, host: string, address: string): void;
    onError(this: Resolver, host: string): void;
  }
  export default class Resolver {
    constructor(options: { socket: { io: typeof UDP }; servers: string[] });
    resolve(request: ResolveRequest): void;
    close(): void;
  }
}

declare module "timer" {
  /** Opaque timer handle. */
  export type TimerId = object | number;
  const Timer: {
    /** One shot after `interval` ms (next turn when omitted or 0); with `repeat`, repeats. */
    set(callback: (id: TimerId) => void, interval?: number, repeat?: number): TimerId;
    repeat(callback: (id: TimerId) => void, interval: number): TimerId;
    /** Reschedules; with no interval the timer stays allocated but will not fire. */
    schedule(id: TimerId, interval?: number, repeat?: number): void;
    clear(id: TimerId | undefined | null): void;
  };
  export default Timer;
}

declare module "text/encoder" {
  export default class TextEncoder {
    encode(text: string): Uint8Array;
    encodeInto(text: string, into: Uint8Array): { read: number; written: number };
  }
}

declare module "text/decoder" {
  export default class TextDecoder {
    constructor(label?: "utf-8", options?: { fatal?: boolean; ignoreBOM?: boolean });
    decode(bytes?: Uint8Array | ArrayBuffer, options?: { stream?: boolean }): string;
  }
}

declare module "mc/config" {
  /** The app's settings: the manifest's "config" block, overridden on the mcconfig command line. */
  const config: Record<string, unknown>;
  export default config;
}

/** Moddable's debug output; host-sim prints it to stdout. */
declare function trace(...values: unknown[]): void;

declare module "crypt" {
  /** Moddable's message digests (modules/crypt/digest). nats-xs uses "SHA256" only; the XS host and
   *  host-sim implement that one and throw for any other type. */
  export class Digest {
    constructor(type: "SHA256" | "SHA1" | "SHA224" | "SHA384" | "SHA512" | "MD5");
    /** Hashes more bytes (a string is hashed as its UTF-8 bytes). */
    write(data: ArrayBuffer | ArrayBufferView | string): void;
    /** The digest of everything written; with `more` true the state is kept so writing can go on. */
    close(more?: boolean): ArrayBuffer;
    /** Starts over. */
    reset(): void;
    readonly blockSize: number;
    readonly outputSize: number;
  }
  const crypt: { Digest: typeof Digest };
  export default crypt;
}

declare module "embedded:io/socket/tcp/tls" {
  /** Moddable's TLS socket (`examples/io/tcp/tlssocket`, TLS 1.2): it makes its own TCP socket
   *  with `new TCP.io({...options, onReadable, onWritable, onError})`, so an `io` that adopts an
   *  open socket (see nats-xs/tls) starts TLS on a connection already in use. */
  export interface TLSSocketOptions {
    TCP: { io: new (options: any) => object };
    /** Server name for SNI and the certificate check (absent for an IP literal). */
    host?: string;
    /** Passed to the TLS session: `ca`, `clientCertificates`, `clientKey`, `serverName`... */
    secure?: Record<string, unknown>;
    onReadable?: (count: number) => void;
    onWritable?: (count: number) => void;
    /** Moddable gives no detail; host-sim and the XS host pass the reason as a string. */
    onError?: (detail?: string) => void;
    [option: string]: unknown;
  }
  export default class TLSSocket {
    constructor(options: TLSSocketOptions);
    /** `count` bytes of the current record (all of it without a count), as an ArrayBuffer. */
    read(count?: number): ArrayBuffer | undefined;
    write(data: ArrayBuffer | Uint8Array): number;
    close(): void;
  }
}

declare module "embedded:provider/builtin" {
  /** One bus of the board as Moddable's provider describes it: its io class and its pins. */
  export interface BusOptions {
    io: new (options: Record<string, unknown>) => unknown;
    [pin: string]: unknown;
  }
  /** The board's buses (Moddable's `host/provider` of the build target); `simulated` on a host. */
  const device: {
    I2C: { default: BusOptions };
    simulated?: boolean;
  };
  export default device;
}

declare module "embedded:sensor/Humidity-Temperature/SHT3x" {
  /** A sample; a field is missing when its checksum failed on the bus. */
  export interface Sample {
    thermometer: { temperature?: number };
    hygrometer: { humidity?: number };
  }
  /** Moddable's ECMA-419 SHT3x driver (or the simulated one on a host). */
  export default class SHT3x {
    constructor(options: { sensor: object; onError?: (message: string) => void });
    configure(options: object): void;
    sample(): Sample;
    close(): void;
  }
}

declare module "embedded:storage/files" {
  /** Moddable SDK 8.2.3 `modules/io/files` (posix on lin, littlefs on esp32); host-sim and the XS
   *  host root it at `$NATS_XS_DEVICE_DIR/files`. Errors are thrown as `Error` (strerror text). */
  export interface Status {
    /** Bytes (absent when nothing is at the path). */
    size?: number;
    /** 0 when nothing is at the path. */
    mode: number;
    isFile(): boolean;
    isDirectory(): boolean;
    isSymbolicLink(): boolean;
  }
  export interface File {
    /** `count` bytes from `position` into a new ArrayBuffer (shorter at the end of the file). */
    read(count: number, position: number): ArrayBuffer;
    /** Bytes from `position` into `buffer`; returns how many were read. */
    read(buffer: ArrayBuffer | ArrayBufferView, position: number): number;
    write(buffer: ArrayBuffer | ArrayBufferView, position: number): void;
    status(): Status;
    setSize(length: number): void;
    /** Commits what was written (fsync; lfs_file_sync on littlefs, where nothing written survives
     *  a power loss before it). */
    flush(): void;
    close(): void;
  }
  export interface Directory {
    /** `mode`: "r" (default; the file must exist), "r+" (must exist), "w", "w+" (created, emptied). */
    openFile(options: { path: string; mode?: "r" | "r+" | "w" | "w+" }): File;
    openDirectory(options: { path: string }): Directory;
    /** true when something was deleted, false when nothing was there. */
    delete(path: string): boolean;
    /** Renames, replacing `to` atomically. */
    move(from: string, to: string, directory?: Directory): void;
    status(path: string): Status;
    /** true when made, false when it was there already. */
    createDirectory(path: string): boolean;
    scan(path?: string): Iterator<string> & Iterable<string>;
    close(): void;
  }
  const files: Directory;
  export default files;
}

declare module "ota" {
  /** Moddable's ESP32 OTA module (build/devices/esp32/modules/ota) over esp_ota_ops: the image is
   *  written into the update partition (the OTA slot after the running one). host-sim and the XS
   *  host write a simulated partition under `$NATS_XS_DEVICE_DIR/ota` (host-sim/otadata.js). */
  export default class OTA {
    /** esp_ota_begin: erases the update partition. Throws ("begin failed") when there is none, or,
     *  with rollback on, while the running image is still pending verification. */
    constructor();
    /** Appends bytes to the image; throws ("write failed") past the partition's end and after
     *  cancel() or complete(). */
    write(bytes: ArrayBuffer | Uint8Array | DataView): void;
    /** Abandons the update; the running image stays. Safe to call again. */
    cancel(): void;
    /** esp_ota_end (the image is verified) and esp_ota_set_boot_partition: the new image boots
     *  at the next restart. Throws when nothing or no valid image was written. */
    complete(): void;
  }
}

// nats-xs's device module for what Moddable's `ota` lacks: the rollback state and the restart
// (firmware/device/esp32/ota-boot over esp_ota_ops; host-sim/ota-boot.js and tools/xs/host/ota.c
// simulate it).
declare module "ota/boot" {
  /** The running image's state as ESP-IDF keeps it in otadata (esp_ota_img_states_t); "undefined"
   *  for the factory image or without CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE. */
  export type ImageState = "new" | "pending-verify" | "valid" | "invalid" | "aborted" | "undefined";
  /** The running image's partition label: "factory", "ota_0", "ota_1" (esp_ota_get_running_partition). */
  export function running(): string;
  /** The running image's state (esp_ota_get_state_partition). */
  export function state(): ImageState;
  /** The partition the next `new OTA()` writes and its size in bytes (esp_ota_get_next_update_partition). */
  export function next(): { label: string; bytes: number };
  /** The label of the last image refused at boot or rolled back, or undefined (esp_ota_get_last_invalid_partition). */
  export function lastInvalid(): string | undefined;
  /** The running image works: it stays, no rollback (esp_ota_mark_app_valid_cancel_rollback). */
  export function markValid(): void;
  /** Marks the running image invalid and reboots into the previous one
   *  (esp_ota_mark_app_invalid_rollback_and_reboot); throws when there is none. */
  export function rollback(): never;
  /** Reboots now (esp_restart). host-sim and the XS host exit with status 100, which
   *  their device runners take as a reboot. */
  export function restart(): never;
}
