// The nats-server launcher: real servers on free loopback ports, ready when started, gone when
// stopped, back on the same port when restarted.
import { test, expect, describe, afterEach } from "vitest";
import net from "node:net";
import { existsSync } from "node:fs";
import { findNatsServer, startServer } from "../tools/nats-server.mjs";

type Handle = Awaited<ReturnType<typeof startServer>>;
const started: Handle[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.stop()));
});

async function start(options: Parameters<typeof startServer>[0] = {}): Promise<Handle> {
  const server = await startServer(options);
  started.push(server);
  return server;
}

/** Connects with a raw socket and returns the parsed INFO the server greets with. */
function info(port: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let text = "";
    socket.setTimeout(5000, () => socket.destroy(new Error("no INFO within 5 s")));
    socket.on("data", (chunk) => {
      text += chunk.toString();
      const end = text.indexOf("\r\n");
      if (end < 0) return;
      socket.destroy();
      expect(text.startsWith("INFO ")).toBe(true);
      resolve(JSON.parse(text.slice(5, end)));
    });
    socket.on("error", reject);
  });
}

/** Whether something accepts connections on the loopback port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.on("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

describe("nats-server launcher", () => {
  test("findNatsServer finds the installed binary", () => {
    expect(findNatsServer()).toMatch(/nats-server$/);
  });

  test("a started server greets a raw socket with INFO on its loopback URL, JetStream on", async () => {
    const server = await start();
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    expect(server.host).toBe("127.0.0.1");
    expect(server.pid).toBeGreaterThan(0);
    const greeting = await info(server.port);
    expect(greeting.server_id).toEqual(expect.any(String));
    expect(greeting.port).toBe(server.port);
    expect(greeting.host).toBe("127.0.0.1");
    expect(greeting.jetstream).toBe(true);
    expect(server.storeDir && existsSync(server.storeDir)).toBeTruthy();
  });

  test("stop frees the port and removes the temporary store", async () => {
    const server = await start();
    const storeDir = server.storeDir!;
    await server.stop();
    expect(await listening(server.port)).toBe(false);
    expect(existsSync(storeDir)).toBe(false);
    // The port can be bound again at once.
    const probe = net.createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once("error", reject);
      probe.listen(server.port, "127.0.0.1", resolve);
    });
    await new Promise((resolve) => probe.close(resolve));
  });

  test("restart after kill comes back on the same port with the same store", async () => {
    const server = await start({ name: "restartable" });
    const firstPid = server.pid;
    await server.kill();
    expect(await listening(server.port)).toBe(false);
    await server.restart();
    expect(server.pid).not.toBe(firstPid);
    const greeting = await info(server.port);
    expect(greeting.server_name).toBe("restartable");
    expect(greeting.port).toBe(server.port);
    expect(existsSync(server.storeDir!)).toBe(true);
  });

  test("restart of a running server stops it first", async () => {
    const server = await start();
    const firstPid = server.pid;
    await server.restart();
    expect(server.pid).not.toBe(firstPid);
    expect((await info(server.port)).port).toBe(server.port);
  });

  test("two servers at once get different ports", async () => {
    const [a, b] = await Promise.all([start(), start()]);
    expect(a.port).not.toBe(b.port);
    const [ia, ib] = await Promise.all([info(a.port), info(b.port)]);
    expect(ia.server_id).not.toBe(ib.server_id);
  });

  test("config text reaches the server, and JetStream can be left off", async () => {
    const server = await start({ jetstream: false, config: "max_payload: 4096\n" });
    const greeting = await info(server.port);
    expect(greeting.max_payload).toBe(4096);
    expect(greeting.jetstream ?? false).toBe(false);
    expect(server.storeDir).toBeUndefined();
  });

  test("restart after stop runs again with the same config", async () => {
    const server = await start({ config: "max_payload: 4096\n" });
    await server.stop();
    await server.restart();
    expect((await info(server.port)).max_payload).toBe(4096);
  });

  test("stop with keepStore keeps the JetStream store for a restart", async () => {
    const server = await start();
    await server.stop({ keepStore: true });
    expect(existsSync(server.storeDir!)).toBe(true);
    await server.restart();
    expect((await info(server.port)).jetstream).toBe(true);
  });

  test("signal SIGUSR2 puts the server in lame duck mode", async () => {
    const server = await start();
    const socket = net.connect({ host: "127.0.0.1", port: server.port });
    let text = "";
    socket.on("data", (chunk) => (text += chunk.toString()));
    await new Promise((resolve) => socket.once("data", resolve));
    socket.write('CONNECT {"verbose":false,"pedantic":false,"protocol":1}\r\nPING\r\n');
    await expect.poll(() => text.includes("PONG"), { timeout: 5000 }).toBe(true);
    server.signal("SIGUSR2");
    await expect.poll(() => text.includes('"ldm":true'), { timeout: 5000 }).toBe(true);
    socket.destroy();
  });

  test("a server that cannot start fails with its own error output", async () => {
    const server = await start();
    await expect(startServer({ port: server.port, jetstream: false })).rejects.toThrow(/nats-server/);
  });
});
