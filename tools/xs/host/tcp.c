/*
 * nats-xs XS host: "embedded:io/socket/tcp" (ECMA-419 TCP as the Moddable SDK implements it on
 * ESP32 with lwIP), on non-blocking POSIX sockets driven by the host's poll() loop.
 *
 * - new TCP({address, port, nodelay, format, onReadable, onWritable, onError}): address is an IPv4
 *   literal. The connection completes asynchronously; onWritable(count) fires first.
 * - The host holds at most sendBufferSize bytes (8192, the ESP32 lwIP send buffer) per socket.
 *   write(buffer) copies all of it and returns the free space left, or throws "would block" when it
 *   does not fit: never a partial write. It throws "not ready" before the connection completes and
 *   after onError. Bytes go to the kernel once per turn of the loop; onWritable(count) fires when
 *   some left, with the free space.
 * - The host reads at most receiveBufferSize bytes (8192, the lwIP window) ahead of the app;
 *   onReadable(count) fires when bytes arrive, with everything buffered.
 * - read() returns an ArrayBuffer of everything buffered, read(n) exactly n bytes, read(view) fills
 *   the whole view and returns its length; all return undefined when nothing is buffered and throw
 *   when fewer bytes are buffered than asked for. With format "number", read() returns one byte
 *   and write(byte) sends one.
 * - onError() carries no detail, fires on any close or failure, and only once buffered reads are
 *   drained. Callbacks never run inside read or write: the loop delivers them.
 */

#include "host.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

enum {
	kReadable = 1 << 0,
	kWritable = 1 << 1,
};

enum {
	kFormatBuffer = 0,
	kFormatNumber = 1,
};

typedef struct TCPRecord TCPRecord;
struct TCPRecord {
	TCPRecord* next;
	int fd;
	uint8_t connecting;
	uint8_t ready;
	uint8_t error;            /* closed by the peer or failed: no more bytes either way */
	uint8_t errorDelivered;
	uint8_t closed;           /* closed by the app: no more callbacks */
	uint8_t delivering;
	uint8_t triggered;
	uint8_t format;
	uint8_t hasReadable, hasWritable, hasError;
	uint8_t* input;
	int inputOffset, inputLength;
	uint8_t* output;
	int outputLength;
	struct sockaddr_in remote;
	xsSlot self;
	xsSlot onReadable;
	xsSlot onWritable;
	xsSlot onError;
};

static TCPRecord* gxSockets = NULL;

static void tcpDestructor(void* data)
{
}

static int freeSpace(TCPRecord* tcp)
{
	return gxHostSettings.sendBufferSize - tcp->outputLength;
}

static void fail(TCPRecord* tcp)
{
	if (tcp->fd >= 0) {
		close(tcp->fd);
		tcp->fd = -1;
	}
	tcp->error = 1;
	tcp->connecting = 0;
	tcp->outputLength = 0;
}

static void release(xsMachine* the, TCPRecord* tcp)
{
	if (tcp->closed)
		return;
	tcp->closed = 1;
	tcp->ready = 0;
	/* Like lwIP's close, bytes already written still go out: hand them to the kernel. */
	if ((tcp->fd >= 0) && tcp->outputLength && !tcp->error && !tcp->connecting)
		(void)send(tcp->fd, tcp->output, tcp->outputLength, MSG_NOSIGNAL);
	if (tcp->fd >= 0) {
		close(tcp->fd);
		tcp->fd = -1;
	}
	xsSetHostData(tcp->self, NULL);
	xsForget(tcp->self);
	if (tcp->hasReadable)
		xsForget(tcp->onReadable);
	if (tcp->hasWritable)
		xsForget(tcp->onWritable);
	if (tcp->hasError)
		xsForget(tcp->onError);
}

static void sweep(void)
{
	TCPRecord** address = &gxSockets;
	TCPRecord* tcp;
	while ((tcp = *address)) {
		if (tcp->closed && !tcp->delivering) {
			*address = tcp->next;
			free(tcp->input);
			free(tcp->output);
			free(tcp);
		}
		else
			address = &tcp->next;
	}
}

static TCPRecord* getSocket(xsMachine* the)
{
	TCPRecord* tcp = hostGetData(the, &xsThis, tcpDestructor, "TCP");
	if (!tcp)
		xsUnknownError("closed");
	return tcp;
}

static int getCallback(xsMachine* the, const char* name, xsSlot* result)
{
	xsSlot value = xsGet(xsArg(0), xsID((char*)name));
	if ((xsTypeOf(value) == xsUndefinedType) || (xsTypeOf(value) == xsNullType))
		return 0;
	if (!xsIsCallable(value))
		xsTypeError("TCP: %s is not a function", name);
	*result = value;
	return 1;
}

static void xs_tcp_constructor(xsMachine* the)
{
	TCPRecord* tcp;
	TCPRecord** address;
	struct sockaddr_in remote;
	char text[64];
	xsSlot value;
	int fd, port, nodelay = -1, format = kFormatBuffer;

	if ((xsToInteger(xsArgc) < 1) || (xsTypeOf(xsArg(0)) != xsReferenceType))
		xsTypeError("TCP: options required");
	if (xsHas(xsArg(0), xsID("from")))
		xsUnknownError("TCP: from is not supported by this host");

	value = xsGet(xsArg(0), xsID("address"));
	if (xsTypeOf(value) != xsStringType)
		xsTypeError("TCP: address must be an IPv4 string");
	xsToStringBuffer(value, text, sizeof(text));
	memset(&remote, 0, sizeof(remote));
	remote.sin_family = AF_INET;
	if (inet_pton(AF_INET, text, &remote.sin_addr) != 1)
		xsUnknownError("TCP: invalid address %s", text);

	value = xsGet(xsArg(0), xsID("port"));
	if ((xsTypeOf(value) != xsIntegerType) && (xsTypeOf(value) != xsNumberType))
		xsRangeError("TCP: invalid port");
	port = xsToInteger(value);
	if ((port < 0) || (port > 65535) || (xsToNumber(value) != (double)port))
		xsRangeError("TCP: invalid port");
	remote.sin_port = htons((uint16_t)port);

	if (xsHas(xsArg(0), xsID("nodelay"))) {
		value = xsGet(xsArg(0), xsID("nodelay"));
		nodelay = xsTest(value) ? 1 : 0;
	}
	if (xsHas(xsArg(0), xsID("format"))) {
		value = xsGet(xsArg(0), xsID("format"));
		xsToStringBuffer(value, text, sizeof(text));
		if (!strcmp(text, "number"))
			format = kFormatNumber;
		else if (strcmp(text, "buffer"))
			xsRangeError("TCP: unimplemented format %s", text);
	}

	tcp = calloc(1, sizeof(TCPRecord));
	if (tcp) {
		tcp->input = malloc(gxHostSettings.receiveBufferSize);
		tcp->output = malloc(gxHostSettings.sendBufferSize);
	}
	if (!tcp || !tcp->input || !tcp->output) {
		if (tcp) {
			free(tcp->input);
			free(tcp->output);
			free(tcp);
		}
		xsUnknownError("TCP: no memory");
	}
	tcp->fd = -1;
	tcp->format = (uint8_t)format;
	tcp->remote = remote;
	tcp->hasReadable = (uint8_t)getCallback(the, "onReadable", &tcp->onReadable);
	tcp->hasWritable = (uint8_t)getCallback(the, "onWritable", &tcp->onWritable);
	tcp->hasError = (uint8_t)getCallback(the, "onError", &tcp->onError);

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		free(tcp->input);
		free(tcp->output);
		free(tcp);
		xsUnknownError("TCP: no socket (%s)", strerror(errno));
	}
	if (nodelay >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof(nodelay));
	{
		/* A fixed kernel send buffer: an ESP32 has no megabytes of kernel buffering behind its
		   8 KB lwIP send buffer, and Linux would otherwise grow this one to several MB, so that a
		   peer that stops reading would take minutes to be noticed. 64 KB still fills loopback. */
		int size = 65536;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	}
	tcp->fd = fd;
	tcp->connecting = 1;
	if (connect(fd, (struct sockaddr*)&remote, sizeof(remote)) == 0) {
		tcp->connecting = 0;
		tcp->ready = 1;
		tcp->triggered |= kWritable;
	}
	else if (errno != EINPROGRESS)
		fail(tcp);

	tcp->self = xsThis;
	xsSetHostData(xsThis, tcp);
	xsRemember(tcp->self);
	if (tcp->hasReadable)
		xsRemember(tcp->onReadable);
	if (tcp->hasWritable)
		xsRemember(tcp->onWritable);
	if (tcp->hasError)
		xsRemember(tcp->onError);
	address = &gxSockets;
	while (*address)
		address = &(*address)->next;
	*address = tcp;
}

static void xs_tcp_close(xsMachine* the)
{
	TCPRecord* tcp = hostGetData(the, &xsThis, tcpDestructor, "TCP");
	if (tcp)
		release(the, tcp);
}

static int available(TCPRecord* tcp)
{
	return tcp->inputLength - tcp->inputOffset;
}

static void consume(TCPRecord* tcp, uint8_t* to, int count)
{
	memcpy(to, tcp->input + tcp->inputOffset, count);
	tcp->inputOffset += count;
	if (tcp->inputOffset == tcp->inputLength)
		tcp->inputOffset = tcp->inputLength = 0;
}

static void xs_tcp_read(xsMachine* the)
{
	TCPRecord* tcp = getSocket(the);
	int have = available(tcp), requested;
	uint8_t* data;
	if (!have)
		return;
	if (tcp->format == kFormatNumber) {
		uint8_t byte;
		consume(tcp, &byte, 1);
		xsResult = xsInteger(byte);
		return;
	}
	if (xsToInteger(xsArgc) == 0) {
		xsResult = xsArrayBuffer(NULL, have);
		hostGetBuffer(the, &xsResult, &data, &requested, 1);
		consume(tcp, data, have);
	}
	else if (xsTypeOf(xsArg(0)) == xsReferenceType) {
		if (!hostGetBuffer(the, &xsArg(0), &data, &requested, 1))
			xsTypeError("TCP: read into an ArrayBuffer, a Uint8Array or a DataView");
		if ((requested <= 0) || (requested > have))
			xsUnknownError("TCP: read of %d bytes but %d buffered", requested, have);
		consume(tcp, data, requested);
		xsResult = xsInteger(requested);
	}
	else {
		int length;
		requested = xsToInteger(xsArg(0));
		if ((requested <= 0) || (requested > have))
			xsUnknownError("TCP: read of %d bytes but %d buffered", requested, have);
		xsResult = xsArrayBuffer(NULL, requested);
		hostGetBuffer(the, &xsResult, &data, &length, 1);
		consume(tcp, data, requested);
	}
}

static void xs_tcp_write(xsMachine* the)
{
	TCPRecord* tcp = getSocket(the);
	uint8_t byte;
	uint8_t* data;
	int length;
	if (!tcp->ready)
		xsUnknownError("not ready");
	if (tcp->error)
		return;     /* failed in this turn: the bytes are lost, onError follows */
	if (xsToInteger(xsArgc) < 1)
		xsTypeError("TCP: nothing to write");
	if (tcp->format == kFormatNumber) {
		byte = (uint8_t)xsToInteger(xsArg(0));
		data = &byte;
		length = 1;
	}
	else if (!hostGetBuffer(the, &xsArg(0), &data, &length, 0))
		xsTypeError("TCP: write an ArrayBuffer, a Uint8Array or a DataView");
	if (length > freeSpace(tcp))
		xsUnknownError("would block");
	memcpy(tcp->output + tcp->outputLength, data, length);
	tcp->outputLength += length;
	xsResult = xsInteger(freeSpace(tcp));
}

static void xs_tcp_get_remoteAddress(xsMachine* the)
{
	TCPRecord* tcp = getSocket(the);
	char text[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &tcp->remote.sin_addr, text, sizeof(text));
	xsResult = xsString(text);
}

static void xs_tcp_get_remotePort(xsMachine* the)
{
	TCPRecord* tcp = getSocket(the);
	xsResult = xsInteger(ntohs(tcp->remote.sin_port));
}

static void xs_tcp_get_format(xsMachine* the)
{
	TCPRecord* tcp = getSocket(the);
	xsResult = xsString((tcp->format == kFormatNumber) ? "number" : "buffer");
}

static void xs_tcp_set_format(xsMachine* the)
{
	TCPRecord* tcp = getSocket(the);
	char text[16];
	xsToStringBuffer(xsArg(0), text, sizeof(text));
	if (!strcmp(text, "number"))
		tcp->format = kFormatNumber;
	else if (!strcmp(text, "buffer"))
		tcp->format = kFormatBuffer;
	else
		xsRangeError("TCP: unimplemented format %s", text);
}

void tcpBuild(xsMachine* the, xsSlot* host, xsSlot* prototype)
{
	*prototype = xsNewHostObject(tcpDestructor);
	hostDefineFunction(the, prototype, "read", xs_tcp_read, 0, xsDontEnum);
	hostDefineFunction(the, prototype, "write", xs_tcp_write, 1, xsDontEnum);
	hostDefineFunction(the, prototype, "close", xs_tcp_close, 0, xsDontEnum);
	hostDefineFunction(the, prototype, "remoteAddress", xs_tcp_get_remoteAddress, 0, xsDontEnum | xsIsGetter);
	hostDefineFunction(the, prototype, "remotePort", xs_tcp_get_remotePort, 0, xsDontEnum | xsIsGetter);
	hostDefineFunction(the, prototype, "format", xs_tcp_get_format, 0, xsDontEnum | xsIsGetter);
	hostDefineFunction(the, prototype, "format", xs_tcp_set_format, 1, xsDontEnum | xsIsSetter);
	hostDefineClass(the, host, "TCP", xs_tcp_constructor, 1, prototype);
}

/* Loop */

int tcpPollCount(void)
{
	int count = 0;
	TCPRecord* tcp;
	for (tcp = gxSockets; tcp; tcp = tcp->next) {
		if (!tcp->closed && (tcp->fd >= 0))
			count++;
	}
	return count;
}

int tcpPollPrepare(struct pollfd* fds, int max)
{
	int count = 0;
	TCPRecord* tcp;
	for (tcp = gxSockets; tcp && (count < max); tcp = tcp->next) {
		short events = 0;
		if (tcp->closed || (tcp->fd < 0))
			continue;
		if (tcp->connecting || tcp->outputLength)
			events |= POLLOUT;
		/* Read ahead only while there is room: a full buffer holds the peer back, as lwIP's
		   window does until the app reads. */
		if (!tcp->connecting && (tcp->inputLength < gxHostSettings.receiveBufferSize))
			events |= POLLIN;
		/* Nothing to wait for (a full buffer the app has not read): poll() skips negative fds. */
		fds[count].fd = events ? tcp->fd : -1;
		fds[count].events = events;
		fds[count].revents = 0;
		count++;
	}
	return count;
}

static void receive(TCPRecord* tcp)
{
	ssize_t got;
	if (tcp->inputOffset && (tcp->inputLength == gxHostSettings.receiveBufferSize)) {
		memmove(tcp->input, tcp->input + tcp->inputOffset, tcp->inputLength - tcp->inputOffset);
		tcp->inputLength -= tcp->inputOffset;
		tcp->inputOffset = 0;
	}
	if (tcp->inputLength >= gxHostSettings.receiveBufferSize)
		return;
	got = recv(tcp->fd, tcp->input + tcp->inputLength, gxHostSettings.receiveBufferSize - tcp->inputLength, 0);
	if (got > 0) {
		tcp->inputLength += (int)got;
		tcp->triggered |= kReadable;
	}
	else if (got == 0)
		fail(tcp);
	else if ((errno != EAGAIN) && (errno != EWOULDBLOCK) && (errno != EINTR))
		fail(tcp);
}

static void transmit(TCPRecord* tcp)
{
	ssize_t sent;
	if (!tcp->outputLength || (tcp->fd < 0) || !tcp->ready)
		return;
	sent = send(tcp->fd, tcp->output, tcp->outputLength, MSG_NOSIGNAL);
	if (sent > 0) {
		memmove(tcp->output, tcp->output + sent, tcp->outputLength - sent);
		tcp->outputLength -= (int)sent;
		tcp->triggered |= kWritable;
	}
	else if ((sent < 0) && (errno != EAGAIN) && (errno != EWOULDBLOCK) && (errno != EINTR))
		fail(tcp);
}

void tcpPollDispatch(struct pollfd* fds, int count)
{
	int i;
	for (i = 0; i < count; i++) {
		TCPRecord* tcp;
		short revents = fds[i].revents;
		if (!revents)
			continue;
		for (tcp = gxSockets; tcp; tcp = tcp->next) {
			if (!tcp->closed && (tcp->fd == fds[i].fd))
				break;
		}
		if (!tcp)
			continue;
		if (tcp->connecting) {
			int error = 0;
			socklen_t length = sizeof(error);
			if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
				continue;
			if (getsockopt(tcp->fd, SOL_SOCKET, SO_ERROR, &error, &length) || error)
				fail(tcp);
			else {
				tcp->connecting = 0;
				tcp->ready = 1;
				tcp->triggered |= kWritable;
			}
			continue;
		}
		if (revents & POLLOUT)
			transmit(tcp);
		if ((tcp->fd >= 0) && (revents & (POLLIN | POLLHUP | POLLERR)))
			receive(tcp);
	}
}

void tcpFlush(void)
{
	TCPRecord* tcp;
	for (tcp = gxSockets; tcp; tcp = tcp->next) {
		if (!tcp->closed)
			transmit(tcp);
	}
}

static int deliverable(TCPRecord* tcp)
{
	if (tcp->closed)
		return 0;
	if ((tcp->triggered & kReadable) && tcp->hasReadable && available(tcp))
		return 1;
	if (tcp->error)
		return !tcp->errorDelivered && !available(tcp) && tcp->hasError;
	return (tcp->triggered & kWritable) && tcp->hasWritable;
}

int tcpDeliver(xsMachine* the)
{
	TCPRecord* tcp;
	int delivered = 0;
	for (tcp = gxSockets; tcp; tcp = tcp->next) {
		uint8_t triggered;
		xsSlot argument;
		if (tcp->closed)
			continue;
		triggered = tcp->triggered;
		tcp->triggered = 0;
		tcp->delivering = 1;
		if ((triggered & kReadable) && tcp->hasReadable && available(tcp)) {
			argument = xsInteger(available(tcp));
			hostCallback(the, &tcp->onReadable, &tcp->self, 1, &argument);
			delivered++;
		}
		if (tcp->closed) {
		}
		else if (tcp->error) {
			/* onError waits until the app has read what arrived before the close. */
			if (!tcp->errorDelivered && !available(tcp)) {
				tcp->errorDelivered = 1;
				tcp->ready = 0;
				if (tcp->hasError) {
					hostCallback(the, &tcp->onError, &tcp->self, 0, NULL);
					delivered++;
				}
			}
		}
		else if ((triggered & kWritable) && tcp->hasWritable && tcp->ready) {
			argument = xsInteger(freeSpace(tcp));
			hostCallback(the, &tcp->onWritable, &tcp->self, 1, &argument);
			delivered++;
		}
		tcp->delivering = 0;
	}
	sweep();
	return delivered;
}

int tcpPending(void)
{
	TCPRecord* tcp;
	for (tcp = gxSockets; tcp; tcp = tcp->next) {
		if (deliverable(tcp))
			return 1;
	}
	return 0;
}

int tcpAlive(void)
{
	TCPRecord* tcp;
	for (tcp = gxSockets; tcp; tcp = tcp->next) {
		if (!tcp->closed && ((tcp->fd >= 0) || deliverable(tcp)))
			return 1;
	}
	return 0;
}
