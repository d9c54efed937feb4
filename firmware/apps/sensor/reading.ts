/**
 * A reading: one sample of the sensor as the JSON the device publishes. The shape is the same with
 * the SDK's SHT3x driver on a board and with the simulated sensor on a host:
 *   {"id":"s-1","boot":"k3J9x0Qa","seq":17,"t":1764489600000,"temperature":21.42,"humidity":47.1,"alert":null}
 * `temperature`/`humidity` are null when the driver could not read them (a checksum failed on the
 * bus); `alert` is "high" or "low" when the temperature crosses a threshold, else null. `boot` is
 * random per boot so that (boot, seq) names a reading across reboots.
 */
import type { Sample } from "embedded:sensor/Humidity-Temperature/SHT3x";
import type { Settings } from "./settings.js";

function round2(v: number | undefined): number | null {
  return typeof v === "number" && Number.isFinite(v) ? Math.round(v * 100) / 100 : null;
}

/** The alert a temperature raises under `settings`, or null. */
export function alertOf(temperature: number | null, settings: Settings): string | null {
  if (temperature === null) return null;
  if (settings.high !== null && temperature >= settings.high) return "high";
  if (settings.low !== null && temperature <= settings.low) return "low";
  return null;
}

/** The reading's JSON text. */
export function readingJson(id: string, boot: string, seq: number, sample: Sample, settings: Settings): string {
  const temperature = round2(sample.thermometer.temperature);
  return JSON.stringify({
    id,
    boot,
    seq,
    t: Date.now(),
    temperature,
    humidity: round2(sample.hygrometer.humidity),
    alert: alertOf(temperature, settings),
  });
}
