/*
 * nats-xs XS host: "text/encoder" and "text/decoder" (UTF-8 only, WHATWG semantics).
 *
 * XS keeps strings as UTF-8 with two twists: U+0000 is stored as C0 80, and a surrogate that is not
 * part of a pair is stored as its own 3-byte sequence. The encoder turns that into real UTF-8 (lone
 * surrogates become U+FFFD, split pairs are joined); the decoder validates bytes, replaces bad
 * sequences with U+FFFD (or throws when fatal), keeps an incomplete sequence across calls with
 * {stream: true}, and drops a leading BOM unless ignoreBOM.
 */

#include "host.h"

/* Encoder */

/* Next code point of an XS string, joining a surrogate pair kept as two sequences; `units` gets
   the number of UTF-16 code units it stands for. */
static const uint8_t* nextCodePoint(const uint8_t* p, uint32_t* result, int* units)
{
	txInteger c;
	p = (const uint8_t*)fxUTF8Decode((txString)p, &c);
	*units = (c >= 0x10000) ? 2 : 1;
	if ((c >= 0xD800) && (c <= 0xDBFF)) {
		txInteger d;
		const uint8_t* q = (const uint8_t*)fxUTF8Decode((txString)p, &d);
		if ((d >= 0xDC00) && (d <= 0xDFFF)) {
			c = 0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00);
			*units = 2;
			p = q;
		}
		else
			c = 0xFFFD;
	}
	else if ((c >= 0xDC00) && (c <= 0xDFFF))
		c = 0xFFFD;
	*result = (uint32_t)c;
	return p;
}

static int utf8Length(uint32_t c)
{
	return (c < 0x80) ? 1 : (c < 0x800) ? 2 : (c < 0x10000) ? 3 : 4;
}

static uint8_t* putUTF8(uint8_t* out, uint32_t c)
{
	if (c < 0x80)
		*out++ = (uint8_t)c;
	else if (c < 0x800) {
		*out++ = (uint8_t)(0xC0 | (c >> 6));
		*out++ = (uint8_t)(0x80 | (c & 0x3F));
	}
	else if (c < 0x10000) {
		*out++ = (uint8_t)(0xE0 | (c >> 12));
		*out++ = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
		*out++ = (uint8_t)(0x80 | (c & 0x3F));
	}
	else {
		*out++ = (uint8_t)(0xF0 | (c >> 18));
		*out++ = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
		*out++ = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
		*out++ = (uint8_t)(0x80 | (c & 0x3F));
	}
	return out;
}

static void encoderDestructor(void* data)
{
}

static void xs_encoder_constructor(xsMachine* the)
{
}

static void xs_encoder_encode(xsMachine* the)
{
	const uint8_t* p;
	uint8_t* out;
	int length = 0, units, size;
	uint32_t c;
	xsVars(2);
	if (xsToInteger(xsArgc) > 0)
		xsVar(0) = xsArg(0);
	else
		xsVar(0) = xsString("");
	/* Convert in place so the string stays rooted while we allocate. */
	p = (const uint8_t*)fxToString(the, &xsVar(0));
	while (*p) {
		p = nextCodePoint(p, &c, &units);
		length += utf8Length(c);
	}
	xsVar(1) = xsArrayBuffer(NULL, length);
	/* The allocation may have moved the string: fetch it again. */
	p = (const uint8_t*)fxToString(the, &xsVar(0));
	hostGetBuffer(the, &xsVar(1), &out, &size, 1);
	while (*p) {
		p = nextCodePoint(p, &c, &units);
		out = putUTF8(out, c);
	}
	xsResult = xsNew1(xsGlobal, xsID("Uint8Array"), xsVar(1));
}

static void xs_encoder_encodeInto(xsMachine* the)
{
	const uint8_t* p;
	uint8_t* out;
	int size, read = 0, written = 0, units;
	uint32_t c;
	xsVars(1);
	if (xsToInteger(xsArgc) < 2)
		xsTypeError("TextEncoder: encodeInto(string, Uint8Array)");
	xsVar(0) = xsArg(0);
	fxToString(the, &xsVar(0));
	if (!hostGetBuffer(the, &xsArg(1), &out, &size, 1))
		xsTypeError("TextEncoder: encodeInto needs a Uint8Array");
	p = (const uint8_t*)fxToString(the, &xsVar(0));
	while (*p) {
		const uint8_t* q = nextCodePoint(p, &c, &units);
		int length = utf8Length(c);
		if (written + length > size)
			break;
		putUTF8(out + written, c);
		written += length;
		read += units;
		p = q;
	}
	xsResult = xsNewObject();
	xsSet(xsResult, xsID("read"), xsInteger(read));
	xsSet(xsResult, xsID("written"), xsInteger(written));
}

static void xs_encoder_get_encoding(xsMachine* the)
{
	xsResult = xsString("utf-8");
}

/* Decoder */

typedef struct {
	uint8_t fatal;
	uint8_t ignoreBOM;
	uint8_t bomSeen;     /* the first code point of the stream is behind us */
	uint8_t needed;      /* continuation bytes still expected */
	uint8_t seen;
	uint8_t lower, upper;
	uint32_t codePoint;
} Decoder;

static void decoderDestructor(void* data)
{
	free(data);
}

static void resetDecoder(Decoder* d)
{
	d->needed = d->seen = 0;
	d->lower = 0x80;
	d->upper = 0xBF;
	d->codePoint = 0;
}

/* Runs the WHATWG UTF-8 decoder over bytes and returns the XS string length; writes when `out`.
   Returns -1 on the first error when fatal. */
static int decode(Decoder* d, const uint8_t* bytes, int count, int flush, uint8_t* out)
{
	int length = 0, i = 0;
	while (i <= count) {
		uint32_t emit;
		int have;
		if (i == count) {
			if (!flush || !d->needed)
				break;
			resetDecoder(d);
			if (d->fatal)
				return -1;
			emit = 0xFFFD;
			i++;
		}
		else {
			uint8_t b = bytes[i];
			if (!d->needed) {
				i++;
				if (b < 0x80) {
					emit = b;
				}
				else if ((b >= 0xC2) && (b <= 0xDF)) {
					d->needed = 1;
					d->codePoint = b & 0x1F;
					continue;
				}
				else if ((b >= 0xE0) && (b <= 0xEF)) {
					if (b == 0xE0) d->lower = 0xA0;
					if (b == 0xED) d->upper = 0x9F;
					d->needed = 2;
					d->codePoint = b & 0x0F;
					continue;
				}
				else if ((b >= 0xF0) && (b <= 0xF4)) {
					if (b == 0xF0) d->lower = 0x90;
					if (b == 0xF4) d->upper = 0x8F;
					d->needed = 3;
					d->codePoint = b & 0x07;
					continue;
				}
				else {
					if (d->fatal)
						return -1;
					emit = 0xFFFD;
				}
			}
			else if ((b < d->lower) || (b > d->upper)) {
				/* The sequence ends here; the byte starts over on its own. */
				resetDecoder(d);
				if (d->fatal)
					return -1;
				emit = 0xFFFD;
			}
			else {
				i++;
				d->lower = 0x80;
				d->upper = 0xBF;
				d->codePoint = (d->codePoint << 6) | (b & 0x3F);
				if (++d->seen < d->needed)
					continue;
				emit = d->codePoint;
				resetDecoder(d);
			}
		}
		if (!d->bomSeen) {
			d->bomSeen = 1;
			if ((emit == 0xFEFF) && !d->ignoreBOM)
				continue;
		}
		if (emit == 0) {
			have = 2;
			if (out) {
				out[length] = 0xC0;
				out[length + 1] = 0x80;
			}
		}
		else {
			have = utf8Length(emit);
			if (out)
				putUTF8(out + length, emit);
		}
		length += have;
	}
	return length;
}

static void xs_decoder_constructor(xsMachine* the)
{
	Decoder* d;
	int argc = xsToInteger(xsArgc);
	if ((argc > 0) && (xsTypeOf(xsArg(0)) != xsUndefinedType)) {
		char label[32];
		char* p;
		xsToStringBuffer(xsArg(0), label, sizeof(label));
		for (p = label; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (strcmp(label, "utf-8") && strcmp(label, "utf8") && strcmp(label, "unicode-1-1-utf-8"))
			xsRangeError("TextDecoder: unsupported encoding %s", label);
	}
	d = calloc(1, sizeof(Decoder));
	if (!d)
		xsUnknownError("TextDecoder: no memory");
	resetDecoder(d);
	if ((argc > 1) && (xsTypeOf(xsArg(1)) == xsReferenceType)) {
		xsSlot value = xsGet(xsArg(1), xsID("fatal"));
		d->fatal = xsTest(value) ? 1 : 0;
		value = xsGet(xsArg(1), xsID("ignoreBOM"));
		d->ignoreBOM = xsTest(value) ? 1 : 0;
	}
	xsSetHostData(xsThis, d);
}

static Decoder* getDecoder(xsMachine* the)
{
	Decoder* d = hostGetData(the, &xsThis, decoderDestructor, "TextDecoder");
	if (!d)
		xsTypeError("TextDecoder: invalid object");
	return d;
}

static void xs_decoder_decode(xsMachine* the)
{
	Decoder* d = getDecoder(the);
	Decoder probe;
	int argc = xsToInteger(xsArgc), stream = 0, count = 0, length, size;
	const uint8_t* bytes = (const uint8_t*)"";
	uint8_t* data;
	if ((argc > 1) && (xsTypeOf(xsArg(1)) == xsReferenceType)) {
		xsSlot value = xsGet(xsArg(1), xsID("stream"));
		stream = xsTest(value) ? 1 : 0;
	}
	if ((argc > 0) && (xsTypeOf(xsArg(0)) != xsUndefinedType)) {
		if (!hostGetBuffer(the, &xsArg(0), &data, &count, 0))
			xsTypeError("TextDecoder: decode an ArrayBuffer, a Uint8Array or a DataView");
		bytes = data;
	}
	probe = *d;
	length = decode(&probe, bytes, count, !stream, NULL);
	if (length < 0) {
		resetDecoder(d);
		d->bomSeen = 0;
		xsTypeError("TextDecoder: invalid UTF-8");
	}
	xsResult = xsStringBuffer(NULL, length);
	/* The string allocation may have moved the bytes: fetch them again. */
	if (count) {
		hostGetBuffer(the, &xsArg(0), &data, &size, 0);
		bytes = data;
	}
	decode(d, bytes, count, !stream, (uint8_t*)xsToString(xsResult));
	if (!stream) {
		resetDecoder(d);
		d->bomSeen = 0;
	}
}

static void xs_decoder_get_encoding(xsMachine* the)
{
	xsResult = xsString("utf-8");
}

static void xs_decoder_get_fatal(xsMachine* the)
{
	xsResult = xsBoolean(getDecoder(the)->fatal);
}

static void xs_decoder_get_ignoreBOM(xsMachine* the)
{
	xsResult = xsBoolean(getDecoder(the)->ignoreBOM);
}

void textBuild(xsMachine* the, xsSlot* host, xsSlot* prototype)
{
	*prototype = xsNewHostObject(encoderDestructor);
	hostDefineFunction(the, prototype, "encode", xs_encoder_encode, 1, xsDontEnum);
	hostDefineFunction(the, prototype, "encodeInto", xs_encoder_encodeInto, 2, xsDontEnum);
	hostDefineFunction(the, prototype, "encoding", xs_encoder_get_encoding, 0, xsDontEnum | xsIsGetter);
	hostDefineClass(the, host, "TextEncoder", xs_encoder_constructor, 0, prototype);

	*prototype = xsNewHostObject(decoderDestructor);
	hostDefineFunction(the, prototype, "decode", xs_decoder_decode, 1, xsDontEnum);
	hostDefineFunction(the, prototype, "encoding", xs_decoder_get_encoding, 0, xsDontEnum | xsIsGetter);
	hostDefineFunction(the, prototype, "fatal", xs_decoder_get_fatal, 0, xsDontEnum | xsIsGetter);
	hostDefineFunction(the, prototype, "ignoreBOM", xs_decoder_get_ignoreBOM, 0, xsDontEnum | xsIsGetter);
	hostDefineClass(the, host, "TextDecoder", xs_decoder_constructor, 0, prototype);
}
