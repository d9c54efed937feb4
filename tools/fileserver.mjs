#!/usr/bin/env node
// The link file server for development and tests: the part of Plik's HTTP API that NATSBridge
// uses, on node:http, bound to 127.0.0.1, files kept in a temporary folder and streamed both ways
// (a 10 MB upload or download never sits in memory). It follows Plik 1.3's API as Plik documents
// it (root-gg/plik docs/reference/api.md, server/handlers/create_upload.go, add_file.go,
// server/common/upload.go, file.go):
//
//   POST /upload                            JSON body (ttl, oneShot, removable, stream, files...;
//                                           may be empty) -> the upload object {"id", "uploadToken",
//                                           "ttl", "files": [], "admin": true, ...}; bad JSON -> 400
//   POST /file/:uploadId                    multipart/form-data, part "file" with a file name,
//                                           header X-UploadToken (403 without it) -> the file
//                                           object {"id", "fileName", "status": "uploaded",
//                                           "fileMd5", "fileType", "fileSize", "reference", "createdAt"}
//   GET  /file/:uploadId/:fileId/:fileName  the bytes; honours a single Range (206 / 416)
//
// Ids are 16 characters and upload tokens 32, of [a-zA-Z0-9], as Plik makes them. Errors answer
// {"message"} with the status. Not served: authentication, passwords, one-shot and stream
// semantics, TTL expiry, archives (a test server keeps files until it closes).
//
// As a program:  npm run fileserver -- [--port N] [--dir FOLDER] [--cert PEM-FILE --key PEM-FILE]
//                prints its URL (https:// with a certificate), runs until Ctrl-C.
// From code:     const fs = await startFileServer(); fs.url; ...; await fs.close();
//                startFileServer({ tls: { cert, key } }) serves the same API over HTTPS (node:https;
//                PEM text, as tools/certs.mjs makes at test time).
// `faults` on the handle lets tests misbehave on purpose: cut a download after some bytes, ignore
// Range, or answer 503 to the next uploads.
import http from "node:http";
import https from "node:https";
import { readFileSync } from "node:fs";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, mkdir, rm, stat } from "node:fs/promises";
import { createHash, randomInt } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HOST = "127.0.0.1";
const MAX_JSON = 64 * 1024;

const ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** An id as Plik's GenerateRandomID makes them. @param {number} n */
function randomId(n) {
  let s = "";
  for (let i = 0; i < n; i++) s += ID_CHARS[randomInt(ID_CHARS.length)];
  return s;
}

/**
 * @param {http.ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 */
function json(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Streams the part named `file` of a multipart body to `target`; resolves with its name and size.
 * @param {http.IncomingMessage} req
 * @param {string} boundary
 * @param {string} target
 * @returns {Promise<{ fileName: string, fileSize: number, md5: string }>}
 */
function receiveMultipart(req, boundary, target) {
  return new Promise((resolve, reject) => {
    const first = Buffer.from(`--${boundary}`);
    const delim = Buffer.from(`\r\n--${boundary}`);
    /** @type {"preamble" | "headers" | "body" | "after" | "done"} */
    let state = "preamble";
    let pending = Buffer.alloc(0);
    /** @type {import("node:fs").WriteStream | null} */
    let out = null;
    let inFile = false;
    let fileName = "";
    let fileSize = 0;
    const md5 = createHash("md5");
    let found = false;
    let failed = false;

    const fail = (/** @type {Error} */ e) => {
      if (failed) return;
      failed = true;
      out?.destroy();
      reject(e);
    };
    /** @param {Buffer} bytes */
    const emit = (bytes) => {
      if (!inFile || bytes.length === 0) return;
      fileSize += bytes.length;
      md5.update(bytes);
      if (!/** @type {import("node:fs").WriteStream} */ (out).write(bytes)) {
        req.pause();
        /** @type {import("node:fs").WriteStream} */ (out).once("drain", () => req.resume());
      }
    };
    const step = () => {
      for (;;) {
        if (state === "preamble") {
          const at = pending.indexOf(first);
          if (at < 0) return;
          pending = pending.subarray(at + first.length);
          state = "after";
        } else if (state === "after") {
          if (pending.length < 2) return;
          if (pending[0] === 45 && pending[1] === 45) {
            state = "done";
            return;
          }
          const eol = pending.indexOf("\r\n");
          if (eol < 0) return;
          pending = pending.subarray(eol + 2);
          state = "headers";
        } else if (state === "headers") {
          const end = pending.indexOf("\r\n\r\n");
          if (end < 0) {
            if (pending.length > 16384) throw new Error("multipart part headers too long");
            return;
          }
          const head = pending.subarray(0, end).toString("utf8");
          pending = pending.subarray(end + 4);
          const disposition = /content-disposition:\s*form-data;([^\r\n]*)/i.exec(head);
          const name = disposition ? /\bname="([^"]*)"/i.exec(disposition[1]) : null;
          const file = disposition ? /\bfilename="([^"]*)"/i.exec(disposition[1]) : null;
          inFile = !found && name !== null && name[1] === "file";
          if (inFile) {
            // Plik: "missing file name from multipart form" when the part has none
            if (!file || file[1] === "") throw new Error("missing file name from multipart form");
            found = true;
            fileName = file[1];
            out = createWriteStream(target);
            out.on("error", fail);
          }
          state = "body";
        } else if (state === "body") {
          const at = pending.indexOf(delim);
          if (at < 0) {
            // keep what could be the start of the delimiter
            const keep = Math.min(pending.length, delim.length - 1);
            emit(pending.subarray(0, pending.length - keep));
            pending = Buffer.from(pending.subarray(pending.length - keep));
            return;
          }
          emit(pending.subarray(0, at));
          pending = pending.subarray(at + delim.length);
          if (inFile) {
            inFile = false;
            /** @type {import("node:fs").WriteStream} */ (out).end();
            // an ending stream emits no "drain": resume a request paused for backpressure here
            req.resume();
          }
          state = "after";
        } else return;
      }
    };
    req.on("data", (chunk) => {
      if (failed) return;
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      try {
        step();
      } catch (e) {
        fail(/** @type {Error} */ (e));
      }
    });
    req.on("error", fail);
    req.on("aborted", () => fail(new Error("the upload was aborted")));
    req.on("end", () => {
      if (failed) return;
      if (state !== "done" || !found) return fail(new Error(found ? "the multipart body ended early" : 'no part named "file"'));
      const w = /** @type {import("node:fs").WriteStream} */ (out);
      const done = () => resolve({ fileName, fileSize, md5: md5.digest("hex") });
      if (w.closed) done();
      else w.on("close", done);
    });
  });
}

/**
 * Starts a file server on 127.0.0.1; over HTTPS with `tls` (a certificate and its key, PEM).
 * @param {{ port?: number, dir?: string, tls?: { cert: string, key: string } }} [options]
 */
export async function startFileServer(options = {}) {
  const dir = options.dir ?? (await mkdtemp(path.join(os.tmpdir(), "nats-xs-files-")));
  const ownDir = options.dir === undefined;
  await mkdir(dir, { recursive: true });
  /** @type {Map<string, { token: string, files: Map<string, { name: string, size: number, file: string }> }>} */
  const uploads = new Map();
  const faults = {
    /** Cut the connection after this many body bytes of the next downloads (0: never). */
    cutAfter: 0,
    /** How many downloads to cut. */
    cutCount: 0,
    /** Answer 200 with the whole file to a Range request. */
    ignoreRange: false,
    /** Answer 503 to this many of the next POST /file. */
    failUploads: 0,
  };
  // connections: TCP connections accepted (with TLS: handshakes begun, whether or not they succeed)
  const stats = { uploads: 0, files: 0, downloads: 0, ranges: /** @type {string[]} */ ([]), cut: 0, connections: 0 };

  /** @type {http.RequestListener} */
  const handler = async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", `http://${HOST}`);
      const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
      if (req.method === "POST" && parts.length === 1 && parts[0] === "upload") {
        let size = 0;
        const chunks = [];
        for await (const chunk of req) {
          size += chunk.length;
          if (size > MAX_JSON) return json(res, 413, { message: "upload parameters too large" });
          chunks.push(chunk);
        }
        /** @type {Record<string, unknown>} */
        let params = {};
        if (size > 0) {
          try {
            params = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          } catch (e) {
            return json(res, 400, { message: `unable to deserialize request body : ${/** @type {Error} */ (e).message}` });
          }
          if (params === null || typeof params !== "object" || Array.isArray(params)) return json(res, 400, { message: "unable to deserialize request body : not an object" });
        }
        const id = randomId(16);
        const token = randomId(32);
        uploads.set(id, { token, files: new Map() });
        stats.uploads++;
        const ttl = typeof params.ttl === "number" ? params.ttl : 0;
        return json(res, 200, {
          id,
          ttl,
          downloadDomain: "",
          comments: typeof params.comments === "string" ? params.comments : "",
          files: [],
          uploadToken: token,
          admin: true,
          stream: params.stream === true,
          oneShot: params.oneShot === true,
          removable: params.removable === true,
          protectedByPassword: false,
          createdAt: new Date().toISOString(),
          expireAt: ttl > 0 ? new Date(Date.now() + ttl * 1000).toISOString() : null,
        });
      }
      if (req.method === "POST" && parts.length === 2 && parts[0] === "file") {
        const up = uploads.get(parts[1]);
        if (!up) return json(res, 404, { message: "upload not found" });
        if (req.headers["x-uploadtoken"] !== up.token) return json(res, 403, { message: "you are not allowed to add file to this upload" });
        if (faults.failUploads > 0) {
          faults.failUploads--;
          req.resume();
          return json(res, 503, { message: "try again later (fault injected)" });
        }
        const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(req.headers["content-type"] ?? "");
        if (!m) return json(res, 400, { message: "expected multipart/form-data with a boundary" });
        const fileId = randomId(16);
        await mkdir(path.join(dir, parts[1]), { recursive: true });
        const target = path.join(dir, parts[1], fileId);
        let got;
        try {
          got = await receiveMultipart(req, (m[1] ?? m[2]).trim(), target);
        } catch (e) {
          return json(res, 400, { message: /** @type {Error} */ (e).message });
        }
        up.files.set(fileId, { name: got.fileName, size: got.fileSize, file: target });
        stats.files++;
        return json(res, 200, {
          id: fileId,
          fileName: got.fileName,
          status: "uploaded",
          fileMd5: got.md5,
          fileType: "application/octet-stream",
          fileSize: got.fileSize,
          reference: "",
          createdAt: new Date().toISOString(),
        });
      }
      if ((req.method === "GET" || req.method === "HEAD") && parts.length === 4 && parts[0] === "file") {
        const f = uploads.get(parts[1])?.files.get(parts[2]);
        if (!f || f.name !== parts[3]) return json(res, 404, { message: "file not found" });
        const size = (await stat(f.file)).size;
        let start = 0;
        let end = size - 1;
        let status = 200;
        const range = req.headers.range;
        if (range !== undefined && !faults.ignoreRange) {
          stats.ranges.push(range);
          const r = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
          if (r && (r[1] !== "" || r[2] !== "")) {
            if (r[1] === "") start = Math.max(0, size - Number(r[2]));
            else {
              start = Number(r[1]);
              if (r[2] !== "") end = Math.min(end, Number(r[2]));
            }
            if (start >= size || start > end) {
              res.writeHead(416, { "Content-Range": `bytes */${size}` });
              return res.end();
            }
            status = 206;
          }
        }
        const headers = {
          "Content-Type": "application/octet-stream",
          "Content-Length": String(end - start + 1),
          "Accept-Ranges": "bytes",
          "Content-Disposition": `attachment; filename="${f.name.replace(/"/g, "")}"`,
        };
        if (status === 206) headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
        res.writeHead(status, headers);
        stats.downloads++;
        if (req.method === "HEAD" || size === 0) return res.end();
        const stream = createReadStream(f.file, { start, end });
        if (faults.cutCount > 0 && faults.cutAfter > 0) {
          faults.cutCount--;
          let sent = 0;
          const limit = faults.cutAfter;
          stream.on("data", (chunk) => {
            const room = limit - sent;
            if (room <= 0) return;
            const piece = chunk.length <= room ? chunk : chunk.subarray(0, room);
            sent += piece.length;
            res.write(piece);
            if (sent >= limit) {
              stream.destroy();
              stats.cut++;
              // let the piece go out, then drop the connection mid-body
              res.once("drain", () => res.destroy());
              setTimeout(() => res.destroy(), 20);
            }
          });
          return;
        }
        stream.pipe(res);
        stream.on("error", () => res.destroy());
        return;
      }
      json(res, 404, { message: `no route for ${req.method} ${url.pathname}` });
    } catch (e) {
      if (!res.headersSent) json(res, 500, { message: /** @type {Error} */ (e).message });
      else res.destroy();
    }
  };
  const server = options.tls === undefined ? http.createServer(handler) : https.createServer({ cert: options.tls.cert, key: options.tls.key }, handler);
  /** @type {Set<import("node:net").Socket>} */
  const sockets = new Set();
  server.on("connection", (s) => {
    stats.connections++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, HOST, () => resolve(undefined));
  });
  const address = /** @type {import("node:net").AddressInfo} */ (server.address());
  return {
    url: `${options.tls === undefined ? "http" : "https"}://${HOST}:${address.port}`,
    port: address.port,
    dir,
    faults,
    stats,
    /** Stops the server and removes its temporary folder. */
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (/** @type {string} */ name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const port = opt("--port");
  const cert = opt("--cert");
  const key = opt("--key");
  if ((cert === undefined) !== (key === undefined)) {
    console.error("--cert and --key go together (PEM files of the server's certificate and key)");
    process.exit(2);
  }
  const tls = cert === undefined || key === undefined ? undefined : { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
  const fs = await startFileServer({ port: port === undefined ? 8080 : Number(port), dir: opt("--dir"), tls });
  console.log(`file server (Plik subset) on ${fs.url}, files in ${fs.dir}`);
  const stop = async () => {
    await fs.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
