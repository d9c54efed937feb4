// "ota": Moddable's ESP32 OTA module over a simulated partition (tools/xs/host/ota.c).
const OTA = globalThis.__xsHost.OTA;
Object.freeze(OTA.prototype);
export default OTA;
