/*
 * nats-xs XS host: "ota" (Moddable's ESP32 OTA module: new OTA(), write(bytes), cancel(),
 * complete()) and "ota/boot" (nats-xs's: running(), state(), next(), lastInvalid(), markValid(),
 * rollback(), restart()) over simulated partitions in $NATS_XS_DEVICE_DIR/ota, the same files
 * host-sim/otadata.js reads and writes (layout and rollback rules there):
 *
 *   ota_0.mjs, ota_1.mjs   the slots; ota_N.mjs.new while being written
 *   otadata                two 32-byte entries { u32 seq, u8 label[20], u32 state, u32 crc }, LE,
 *                          crc = CRC-32 of the 4 bytes of seq; erased = all 0xFF
 *
 * The running slot is what the runner says (NATS_XS_OTA_RUNNING: factory, ota_0, ota_1); the slot
 * size is NATS_XS_OTA_SLOT_BYTES (default 0x1E8000). Without NATS_XS_DEVICE_DIR the partitions
 * live in a temporary folder removed at exit. restart() ends the process with status 100, which the
 * runner (tools/xs/run.mjs --device-dir) takes as a reboot. Image bytes go straight from the
 * caller's buffer to the file: nothing of the image is kept in the XS heaps.
 */

#include "host.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#define kRestartStatus 100
#define kDefaultSlotBytes 0x1E8000
#define kEntry 32
#define kErased 0xFFFFFFFFu

enum { kNew = 0, kPendingVerify = 1, kValid = 2, kInvalid = 3, kAborted = 4, kUndefined = 0xFFFFFFFF };

typedef struct {
	uint32_t seq;
	uint32_t state;
	int valid;
} txEntry;

typedef struct {
	int fd;
	int slot;
	long written;
	long limit;
} txOTA;

static char gxOtaFolder[PATH_MAX];
static char gxTemporary[PATH_MAX];
static txOTA* gxOpen = NULL;

static const char* const gxLabels[2] = { "ota_0", "ota_1" };

static uint32_t crc32(const uint8_t* data, int length)
{
	uint32_t crc = 0xFFFFFFFF;
	int i, bit;
	for (i = 0; i < length; i++) {
		crc ^= data[i];
		for (bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0xEDB88320 & (0 - (crc & 1)));
	}
	return ~crc;
}

static void put32(uint8_t* p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t* p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* The temporary device folder holds only what this file puts there. */
static void removeTemporary(void)
{
	static const char* const files[] = { "ota_0.mjs", "ota_1.mjs", "ota_0.mjs.new", "ota_1.mjs.new", "otadata" };
	char path[PATH_MAX];
	size_t i;
	if (!gxTemporary[0])
		return;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/ota/%s", gxTemporary, files[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/ota", gxTemporary);
	rmdir(path);
	rmdir(gxTemporary);
}

/* The OTA folder, made when missing. */
static const char* folder(xsMachine* the)
{
	if (!gxOtaFolder[0]) {
		const char* dir = getenv("NATS_XS_DEVICE_DIR");
		char base[PATH_MAX];
		if (dir && *dir)
			snprintf(base, sizeof(base), "%s", dir);
		else {
			const char* tmp = getenv("TMPDIR");
			snprintf(gxTemporary, sizeof(gxTemporary), "%s/nats-xs-device-XXXXXX", (tmp && *tmp) ? tmp : "/tmp");
			if (!mkdtemp(gxTemporary)) {
				gxTemporary[0] = 0;
				xsUnknownError("ota: cannot make a temporary device folder");
			}
			atexit(removeTemporary);
			snprintf(base, sizeof(base), "%s", gxTemporary);
		}
		mkdir(base, 0777);
		snprintf(gxOtaFolder, sizeof(gxOtaFolder), "%s/ota", base);
		if ((mkdir(gxOtaFolder, 0777) < 0) && (errno != EEXIST)) {
			gxOtaFolder[0] = 0;
			xsUnknownError("ota: cannot make the partition folder");
		}
	}
	return gxOtaFolder;
}

static void slotPath(xsMachine* the, int slot, const char* suffix, char* path, size_t size)
{
	snprintf(path, size, "%s/%s.mjs%s", folder(the), gxLabels[slot], suffix);
}

static void readOtadata(xsMachine* the, txEntry entries[2])
{
	uint8_t data[2 * kEntry];
	char path[PATH_MAX];
	int fd, i;
	memset(data, 0xFF, sizeof(data));
	snprintf(path, sizeof(path), "%s/otadata", folder(the));
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, data, sizeof(data));
		(void)n;
		close(fd);
	}
	for (i = 0; i < 2; i++) {
		uint8_t* e = data + (i * kEntry);
		entries[i].seq = get32(e);
		entries[i].state = get32(e + 24);
		entries[i].valid = (entries[i].seq != kErased) && (entries[i].seq != 0) && (get32(e + 28) == crc32(e, 4));
	}
}

/* Writes one entry in place, synced; the other entry is left as it is, as on flash. */
static void writeEntry(xsMachine* the, int index, uint32_t seq, uint32_t state)
{
	uint8_t entry[kEntry];
	char path[PATH_MAX];
	struct stat st;
	int fd;
	snprintf(path, sizeof(path), "%s/otadata", folder(the));
	fd = open(path, O_RDWR | O_CREAT, 0666);
	if (fd < 0)
		xsUnknownError("ota: cannot open otadata");
	if ((fstat(fd, &st) == 0) && (st.st_size < 2 * kEntry)) {
		uint8_t erased[2 * kEntry];
		memset(erased, 0xFF, sizeof(erased));
		if (pwrite(fd, erased + st.st_size, (2 * kEntry) - st.st_size, st.st_size) < 0) {
			close(fd);
			xsUnknownError("ota: cannot write otadata");
		}
	}
	memset(entry, 0, sizeof(entry));
	put32(entry, seq);
	put32(entry + 24, state);
	put32(entry + 28, crc32(entry, 4));
	if ((pwrite(fd, entry, kEntry, index * kEntry) != kEntry) || (fsync(fd) < 0)) {
		close(fd);
		xsUnknownError("ota: cannot write otadata");
	}
	close(fd);
}

static int selectable(const txEntry* e)
{
	return e->valid && (e->state != kInvalid) && (e->state != kAborted);
}

static int activeEntry(const txEntry entries[2])
{
	int best = -1, i;
	for (i = 0; i < 2; i++) {
		if (selectable(&entries[i]) && ((best < 0) || (entries[i].seq > entries[best].seq)))
			best = i;
	}
	return best;
}

static int slotOfSeq(uint32_t seq)
{
	return (int)((seq - 1) % 2);
}

static int entryOfSlot(const txEntry entries[2], int slot)
{
	int a = activeEntry(entries);
	if ((a >= 0) && (slotOfSeq(entries[a].seq) == slot))
		return a;
	if ((a >= 0) && entries[a ^ 1].valid && (slotOfSeq(entries[a ^ 1].seq) == slot))
		return a ^ 1;
	return -1;
}

static int runningSlot(void)
{
	const char* label = getenv("NATS_XS_OTA_RUNNING");
	if (label && !strcmp(label, gxLabels[0]))
		return 0;
	if (label && !strcmp(label, gxLabels[1]))
		return 1;
	return -1;
}

static uint32_t runningState(xsMachine* the)
{
	txEntry entries[2];
	int slot = runningSlot(), i;
	if (slot < 0)
		return kUndefined;
	readOtadata(the, entries);
	i = entryOfSlot(entries, slot);
	return (i < 0) ? kUndefined : entries[i].state;
}

static long slotBytes(void)
{
	const char* text = getenv("NATS_XS_OTA_SLOT_BYTES");
	char* end;
	long n;
	if (!text || !*text)
		return kDefaultSlotBytes;
	n = strtol(text, &end, 10);
	return (*end || (n < 1)) ? kDefaultSlotBytes : n;
}

/* OTA */

static void otaClose(txOTA* ota)
{
	if (ota->fd >= 0) {
		close(ota->fd);
		ota->fd = -1;
	}
	if (gxOpen == ota)
		gxOpen = NULL;
}

static void otaDestructor(void* data)
{
	txOTA* ota = data;
	if (ota) {
		otaClose(ota);
		free(ota);
	}
}

static txOTA* getOTA(xsMachine* the)
{
	txOTA* ota = hostGetData(the, &xsThis, otaDestructor, "OTA");
	if (!ota)
		xsTypeError("OTA: invalid object");
	return ota;
}

static void xs_ota_constructor(xsMachine* the)
{
	char path[PATH_MAX];
	txOTA* ota;
	int running = runningSlot();
	if (runningState(the) == kPendingVerify)
		xsUnknownError("begin failed: the running image is pending verification; mark it valid (ota/boot markValid) before updating");
	if (gxOpen)
		xsUnknownError("begin failed: an update is already being written");
	ota = calloc(1, sizeof(txOTA));
	if (!ota)
		xsUnknownError("no memory");
	ota->fd = -1;
	ota->slot = (running == 0) ? 1 : 0;
	ota->limit = slotBytes();
	xsSetHostData(xsThis, ota);
	/* esp_ota_begin erases the partition */
	slotPath(the, ota->slot, "", path, sizeof(path));
	unlink(path);
	slotPath(the, ota->slot, ".new", path, sizeof(path));
	ota->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (ota->fd < 0)
		xsUnknownError("begin failed: cannot open the update partition");
	gxOpen = ota;
}

static void xs_ota_write(xsMachine* the)
{
	txOTA* ota = getOTA(the);
	uint8_t* data;
	int count;
	if (xsToInteger(xsArgc) < 1)
		xsSyntaxError("write: not enough arguments");
	if ((xsTypeOf(xsArg(0)) != xsReferenceType) || !hostGetBuffer(the, &xsArg(0), &data, &count, 0))
		xsTypeError("write: expected an ArrayBuffer or a byte view");
	if (ota->fd < 0)
		xsUnknownError("write failed: no update in progress");
	if (ota->written + count > ota->limit)
		xsUnknownError("write failed: the image does not fit the %ld-byte update partition", ota->limit);
	while (count > 0) {
		ssize_t n = write(ota->fd, data, count);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			xsUnknownError("write failed: %s", strerror(errno));
		}
		data += n;
		count -= (int)n;
		ota->written += n;
	}
}

static void xs_ota_cancel(xsMachine* the)
{
	txOTA* ota = getOTA(the);
	char path[PATH_MAX];
	if (ota->fd < 0)
		return;
	otaClose(ota);
	slotPath(the, ota->slot, ".new", path, sizeof(path));
	unlink(path);
}

/* esp_ota_set_boot_partition: the next sequence that selects `slot`, over the entry that is not
   the active one, state NEW. */
static void setBootSlot(xsMachine* the, int slot)
{
	txEntry entries[2];
	int a;
	uint32_t seq;
	readOtadata(the, entries);
	a = activeEntry(entries);
	seq = (a < 0) ? 0 : entries[a].seq;
	do
		seq++;
	while (slotOfSeq(seq) != slot);
	writeEntry(the, (a < 0) ? 0 : (a ^ 1), seq, kNew);
}

static void xs_ota_complete(xsMachine* the)
{
	txOTA* ota = getOTA(the);
	char path[PATH_MAX], from[PATH_MAX];
	if (ota->fd < 0)
		xsUnknownError("bad state");
	otaClose(ota);
	slotPath(the, ota->slot, ".new", from, sizeof(from));
	if (ota->written == 0) {
		unlink(from);
		xsUnknownError("end failed: no image was written");
	}
	slotPath(the, ota->slot, "", path, sizeof(path));
	if (rename(from, path) < 0)
		xsUnknownError("end failed: %s", strerror(errno));
	setBootSlot(the, ota->slot);
}

/* ota/boot */

static void xs_ota_running(xsMachine* the)
{
	int slot = runningSlot();
	xsResult = xsString((char*)((slot < 0) ? "factory" : gxLabels[slot]));
}

static const char* stateName(uint32_t state)
{
	switch (state) {
	case kNew: return "new";
	case kPendingVerify: return "pending-verify";
	case kValid: return "valid";
	case kInvalid: return "invalid";
	case kAborted: return "aborted";
	default: return "undefined";
	}
}

static void xs_ota_state(xsMachine* the)
{
	xsResult = xsString((char*)stateName(runningState(the)));
}

static void xs_ota_next(xsMachine* the)
{
	int slot = (runningSlot() == 0) ? 1 : 0;
	xsResult = xsNewObject();
	xsSet(xsResult, xsID("label"), xsString((char*)gxLabels[slot]));
	xsSet(xsResult, xsID("bytes"), xsNumber((double)slotBytes()));
}

static void xs_ota_lastInvalid(xsMachine* the)
{
	txEntry entries[2];
	int best = -1, i;
	readOtadata(the, entries);
	for (i = 0; i < 2; i++) {
		if (entries[i].valid && ((entries[i].state == kInvalid) || (entries[i].state == kAborted)) && ((best < 0) || (entries[i].seq > entries[best].seq)))
			best = i;
	}
	if (best >= 0)
		xsResult = xsString((char*)gxLabels[slotOfSeq(entries[best].seq)]);
}

static void xs_ota_markValid(xsMachine* the)
{
	txEntry entries[2];
	int slot = runningSlot(), i;
	if (slot < 0)
		return;
	readOtadata(the, entries);
	i = entryOfSlot(entries, slot);
	if ((i >= 0) && (entries[i].state == kPendingVerify))
		writeEntry(the, i, entries[i].seq, kValid);
}

static void xs_ota_restart(xsMachine* the)
{
	hostExit(the, kRestartStatus);
}

static void xs_ota_rollback(xsMachine* the)
{
	txEntry entries[2];
	int slot = runningSlot(), i;
	if (slot < 0)
		xsUnknownError("rollback failed: the factory image is running; there is nothing to roll back to");
	readOtadata(the, entries);
	i = entryOfSlot(entries, slot);
	if (i >= 0)
		writeEntry(the, i, entries[i].seq, kInvalid);
	hostExit(the, kRestartStatus);
}

void otaBuild(xsMachine* the, xsSlot* host, xsSlot* prototype)
{
	*prototype = xsNewHostObject(otaDestructor);
	hostDefineFunction(the, prototype, "write", xs_ota_write, 1, xsDontEnum);
	hostDefineFunction(the, prototype, "cancel", xs_ota_cancel, 0, xsDontEnum);
	hostDefineFunction(the, prototype, "complete", xs_ota_complete, 0, xsDontEnum);
	hostDefineClass(the, host, "OTA", xs_ota_constructor, 0, prototype);
	hostDefineFunction(the, host, "otaRunning", xs_ota_running, 0, xsDontEnum);
	hostDefineFunction(the, host, "otaState", xs_ota_state, 0, xsDontEnum);
	hostDefineFunction(the, host, "otaNext", xs_ota_next, 0, xsDontEnum);
	hostDefineFunction(the, host, "otaLastInvalid", xs_ota_lastInvalid, 0, xsDontEnum);
	hostDefineFunction(the, host, "otaMarkValid", xs_ota_markValid, 0, xsDontEnum);
	hostDefineFunction(the, host, "otaRollback", xs_ota_rollback, 0, xsDontEnum);
	hostDefineFunction(the, host, "otaRestart", xs_ota_restart, 0, xsDontEnum);
}
