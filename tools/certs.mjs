// Certificates for the secure-link suites and bench:memory, made with `openssl` at run time in a
// temporary folder (never committed): a CA, a second CA nobody trusts, server certificates (good for 127.0.0.1 and
// localhost, expired, for another host name, signed by the other CA) and a client certificate.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * @typedef {{ cert: string, key: string, certFile: string, keyFile: string }} Pair
 * @typedef {{ dir: string, ca: string, caFile: string, otherCa: string, server: Pair, expired: Pair,
 *   otherHost: Pair, untrusted: Pair, client: Pair, remove(): void }} Certs
 */

/** @param {string} dir @param {string[]} args */
function openssl(dir, args) {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** @param {string} dir @param {string} name */
function authority(dir, name) {
  openssl(dir, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.pem`, "-subj", `/CN=nats-xs test ${name}`, "-days", "2"]);
}

/** @param {string} dir @param {string} name @param {string} ca @param {string} ext @param {number} days @returns {Pair} */
function issue(dir, name, ca, ext, days) {
  openssl(dir, ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-out", `${name}.pem`, "-days", String(days), "-extfile", `${name}.ext`]);
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  return { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8"), certFile, keyFile };
}

/** @returns {Certs} */
export function makeCerts() {
  const dir = mkdtempSync(join(tmpdir(), "nats-xs-certs-"));
  authority(dir, "ca");
  authority(dir, "other");
  const serverExt = "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n";
  return {
    dir,
    ca: readFileSync(join(dir, "ca.pem"), "utf8"),
    caFile: join(dir, "ca.pem"),
    otherCa: readFileSync(join(dir, "other.pem"), "utf8"),
    server: issue(dir, "server", "ca", serverExt, 2),
    // -days -1: valid until yesterday
    expired: issue(dir, "expired", "ca", serverExt, -1),
    otherHost: issue(dir, "otherhost", "ca", "subjectAltName=DNS:other.example\nextendedKeyUsage=serverAuth\n", 2),
    untrusted: issue(dir, "untrusted", "other", serverExt, 2),
    client: issue(dir, "client", "ca", "extendedKeyUsage=clientAuth\n", 2),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** nats-server's tls block for a certificate pair; with `verify`, clients must show a certificate of `caFile`. */
/** @param {Pair} pair @param {string} [caFile] @param {boolean} [verify] */
export function tlsBlock(pair, caFile, verify = false) {
  const ca = caFile === undefined ? "" : `  ca_file: "${caFile}"\n`;
  return `tls {\n  cert_file: "${pair.certFile}"\n  key_file: "${pair.keyFile}"\n${ca}${verify ? "  verify: true\n" : ""}  timeout: 5\n}\n`;
}
