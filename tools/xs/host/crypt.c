/*
 * nats-xs XS host: "crypt", the Digest class of Moddable's modules/crypt/digest, SHA256 only (the one
 * nats-xs uses: link and Object Store digests). Same surface as Moddable's: new Digest("SHA256"),
 * write(data) with a string (its UTF-8 bytes) or an ArrayBuffer / byte view, close(more) returning
 * the 32-byte ArrayBuffer (with `more` true the state is kept), reset(), blockSize, outputSize.
 *
 * SHA-256 as FIPS 180-4 defines it (section 6.2), written here: 64-byte blocks, eight 32-bit working
 * variables, a 64-word schedule. The context lives in malloc'd host data (about 112 bytes), outside
 * the XS heaps as on a device.
 */

#include "host.h"

typedef struct {
	uint32_t state[8];
	uint64_t length;        /* bytes written */
	uint8_t block[64];
	int used;               /* bytes in block */
	int closed;
} Sha256;

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void shaInit(Sha256* s)
{
	static const uint32_t H0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	memcpy(s->state, H0, sizeof(H0));
	s->length = 0;
	s->used = 0;
	s->closed = 0;
}

static void shaBlock(Sha256* s, const uint8_t* p)
{
	uint32_t w[64], a, b, c, d, e, f, g, h, t1, t2;
	int i;
	for (i = 0; i < 16; i++)
		w[i] = ((uint32_t)p[i * 4] << 24) | ((uint32_t)p[i * 4 + 1] << 16) | ((uint32_t)p[i * 4 + 2] << 8) | p[i * 4 + 3];
	for (i = 16; i < 64; i++) {
		uint32_t s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = s->state[0]; b = s->state[1]; c = s->state[2]; d = s->state[3];
	e = s->state[4]; f = s->state[5]; g = s->state[6]; h = s->state[7];
	for (i = 0; i < 64; i++) {
		t1 = h + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
		t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		h = g; g = f; f = e; e = d + t1;
		d = c; c = b; b = a; a = t1 + t2;
	}
	s->state[0] += a; s->state[1] += b; s->state[2] += c; s->state[3] += d;
	s->state[4] += e; s->state[5] += f; s->state[6] += g; s->state[7] += h;
}

static void shaWrite(Sha256* s, const uint8_t* p, size_t n)
{
	s->length += n;
	while (n > 0) {
		size_t take = 64 - (size_t)s->used;
		if (take > n)
			take = n;
		memcpy(s->block + s->used, p, take);
		s->used += (int)take;
		p += take;
		n -= take;
		if (s->used == 64) {
			shaBlock(s, s->block);
			s->used = 0;
		}
	}
}

/* Pads (0x80, zeros, the bit length big-endian) and writes the 32-byte digest. */
static void shaFinish(Sha256* s, uint8_t* out)
{
	uint64_t bits = s->length * 8;
	uint8_t tail[8];
	int i;
	s->block[s->used++] = 0x80;
	if (s->used > 56) {
		memset(s->block + s->used, 0, 64 - s->used);
		shaBlock(s, s->block);
		s->used = 0;
	}
	memset(s->block + s->used, 0, 56 - s->used);
	for (i = 0; i < 8; i++)
		tail[i] = (uint8_t)(bits >> (56 - 8 * i));
	memcpy(s->block + 56, tail, 8);
	shaBlock(s, s->block);
	for (i = 0; i < 8; i++) {
		out[i * 4] = (uint8_t)(s->state[i] >> 24);
		out[i * 4 + 1] = (uint8_t)(s->state[i] >> 16);
		out[i * 4 + 2] = (uint8_t)(s->state[i] >> 8);
		out[i * 4 + 3] = (uint8_t)s->state[i];
	}
}

static void digestDestructor(void* data)
{
	free(data);
}

static Sha256* getDigest(xsMachine* the)
{
	Sha256* s = hostGetData(the, &xsThis, digestDestructor, "Digest");
	if (!s)
		xsTypeError("Digest: invalid object");
	return s;
}

static void xs_digest_constructor(xsMachine* the)
{
	char type[16];
	Sha256* s;
	if (xsToInteger(xsArgc) < 1)
		xsUnknownError("crypt: unsupported digest");
	xsToStringBuffer(xsArg(0), type, sizeof(type));
	if (strcmp(type, "SHA256"))
		xsUnknownError("crypt: unsupported digest");
	s = malloc(sizeof(Sha256));
	if (!s)
		xsUnknownError("crypt: no memory");
	shaInit(s);
	xsSetHostData(xsThis, s);
}

static void xs_digest_write(xsMachine* the)
{
	Sha256* s = getDigest(the);
	uint8_t* data;
	int count;
	if (s->closed)
		xsUnknownError("crypt: can't call digest write after close");
	if (xsToInteger(xsArgc) < 1)
		xsTypeError("crypt: write a string, an ArrayBuffer or a view of one");
	if (xsTypeOf(xsArg(0)) == xsStringType) {
		/* XS keeps strings as UTF-8 (U+0000 as C0 80, as Moddable's C string would stop there) */
		const char* text = xsToString(xsArg(0));
		shaWrite(s, (const uint8_t*)text, strlen(text));
		return;
	}
	if (!hostGetBuffer(the, &xsArg(0), &data, &count, 0))
		xsTypeError("crypt: write a string, an ArrayBuffer or a view of one");
	shaWrite(s, data, (size_t)count);
}

static void xs_digest_close(xsMachine* the)
{
	Sha256* s = getDigest(the);
	int more = (xsToInteger(xsArgc) > 0) && xsTest(xsArg(0));
	if (s->closed)
		xsUnknownError("crypt: digest already closed");
	xsResult = xsArrayBuffer(NULL, 32);
	s = getDigest(the);
	if (more) {
		Sha256 copy = *s;
		shaFinish(&copy, xsToArrayBuffer(xsResult));
	}
	else {
		shaFinish(s, xsToArrayBuffer(xsResult));
		s->closed = 1;
	}
}

static void xs_digest_reset(xsMachine* the)
{
	shaInit(getDigest(the));
}

static void xs_digest_get_blockSize(xsMachine* the)
{
	xsResult = xsInteger(64);
}

static void xs_digest_get_outputSize(xsMachine* the)
{
	xsResult = xsInteger(32);
}

void cryptBuild(xsMachine* the, xsSlot* host, xsSlot* prototype)
{
	*prototype = xsNewHostObject(digestDestructor);
	hostDefineFunction(the, prototype, "write", xs_digest_write, 1, xsDontEnum);
	hostDefineFunction(the, prototype, "close", xs_digest_close, 1, xsDontEnum);
	hostDefineFunction(the, prototype, "reset", xs_digest_reset, 0, xsDontEnum);
	hostDefineFunction(the, prototype, "blockSize", xs_digest_get_blockSize, 0, xsDontEnum | xsIsGetter);
	hostDefineFunction(the, prototype, "outputSize", xs_digest_get_outputSize, 0, xsDontEnum | xsIsGetter);
	hostDefineClass(the, host, "Digest", xs_digest_constructor, 1, prototype);
}
