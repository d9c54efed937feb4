/*
 * nats-xs XS host: "embedded:io/socket/udp", a minimal ECMA-419 UDP socket.
 *
 * - new UDP({port, address, onReadable, onError}) binds (port 0 or omitted: any free port; address
 *   defaults to 0.0.0.0).
 * - write(buffer, address, port) sends one datagram at once (IPv4 literal address); a datagram the
 *   kernel cannot take right now is dropped, as on lwIP.
 * - onReadable(count) fires with the number of datagrams waiting; read() returns the next one as an
 *   ArrayBuffer with `address` and `port` properties, or undefined.
 * - close(). Up to 16 datagrams wait; more are dropped.
 */

#include "host.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#define kMaxDatagrams 16
#define kMaxDatagramSize 2048

typedef struct {
	int length;
	struct sockaddr_in from;
	uint8_t data[kMaxDatagramSize];
} Datagram;

typedef struct UDPRecord UDPRecord;
struct UDPRecord {
	UDPRecord* next;
	int fd;
	uint8_t closed;
	uint8_t delivering;
	uint8_t triggered;
	uint8_t hasReadable;
	int count;
	Datagram* datagrams;
	xsSlot self;
	xsSlot onReadable;
};

static UDPRecord* gxUDPs = NULL;

static void udpDestructor(void* data)
{
}

static void release(xsMachine* the, UDPRecord* udp)
{
	if (udp->closed)
		return;
	udp->closed = 1;
	if (udp->fd >= 0) {
		close(udp->fd);
		udp->fd = -1;
	}
	xsSetHostData(udp->self, NULL);
	xsForget(udp->self);
	if (udp->hasReadable)
		xsForget(udp->onReadable);
}

static void sweep(void)
{
	UDPRecord** address = &gxUDPs;
	UDPRecord* udp;
	while ((udp = *address)) {
		if (udp->closed && !udp->delivering) {
			*address = udp->next;
			free(udp->datagrams);
			free(udp);
		}
		else
			address = &udp->next;
	}
}

static UDPRecord* getSocket(xsMachine* the)
{
	UDPRecord* udp = hostGetData(the, &xsThis, udpDestructor, "UDP");
	if (!udp)
		xsUnknownError("closed");
	return udp;
}

static void xs_udp_constructor(xsMachine* the)
{
	UDPRecord* udp;
	UDPRecord** address;
	struct sockaddr_in local;
	char text[64];
	xsSlot value;
	int fd, port = 0;

	memset(&local, 0, sizeof(local));
	local.sin_family = AF_INET;
	local.sin_addr.s_addr = htonl(INADDR_ANY);
	if ((xsToInteger(xsArgc) > 0) && (xsTypeOf(xsArg(0)) == xsReferenceType)) {
		if (xsHas(xsArg(0), xsID("port"))) {
			port = xsToInteger(xsGet(xsArg(0), xsID("port")));
			if ((port < 0) || (port > 65535))
				xsRangeError("UDP: invalid port");
		}
		if (xsHas(xsArg(0), xsID("address"))) {
			value = xsGet(xsArg(0), xsID("address"));
			xsToStringBuffer(value, text, sizeof(text));
			if (inet_pton(AF_INET, text, &local.sin_addr) != 1)
				xsUnknownError("UDP: invalid address %s", text);
		}
	}
	local.sin_port = htons((uint16_t)port);

	udp = calloc(1, sizeof(UDPRecord));
	if (udp)
		udp->datagrams = calloc(kMaxDatagrams, sizeof(Datagram));
	if (!udp || !udp->datagrams) {
		free(udp);
		xsUnknownError("UDP: no memory");
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if ((fd < 0) || bind(fd, (struct sockaddr*)&local, sizeof(local))) {
		int error = errno;
		if (fd >= 0)
			close(fd);
		free(udp->datagrams);
		free(udp);
		xsUnknownError("UDP: cannot bind (%s)", strerror(error));
	}
	udp->fd = fd;
	if ((xsToInteger(xsArgc) > 0) && (xsTypeOf(xsArg(0)) == xsReferenceType)) {
		value = xsGet(xsArg(0), xsID("onReadable"));
		if (xsIsCallable(value)) {
			udp->onReadable = value;
			udp->hasReadable = 1;
		}
	}
	udp->self = xsThis;
	xsSetHostData(xsThis, udp);
	xsRemember(udp->self);
	if (udp->hasReadable)
		xsRemember(udp->onReadable);
	address = &gxUDPs;
	while (*address)
		address = &(*address)->next;
	*address = udp;
}

static void xs_udp_close(xsMachine* the)
{
	UDPRecord* udp = hostGetData(the, &xsThis, udpDestructor, "UDP");
	if (udp)
		release(the, udp);
}

static void xs_udp_read(xsMachine* the)
{
	UDPRecord* udp = getSocket(the);
	Datagram* datagram;
	char text[INET_ADDRSTRLEN];
	uint8_t* data;
	int length;
	if (!udp->count)
		return;
	datagram = &udp->datagrams[0];
	xsResult = xsArrayBuffer(NULL, datagram->length);
	hostGetBuffer(the, &xsResult, &data, &length, 1);
	memcpy(data, datagram->data, datagram->length);
	inet_ntop(AF_INET, &datagram->from.sin_addr, text, sizeof(text));
	xsSet(xsResult, xsID("address"), xsString(text));
	xsSet(xsResult, xsID("port"), xsInteger(ntohs(datagram->from.sin_port)));
	udp->count--;
	memmove(&udp->datagrams[0], &udp->datagrams[1], udp->count * sizeof(Datagram));
}

static void xs_udp_write(xsMachine* the)
{
	UDPRecord* udp = getSocket(the);
	struct sockaddr_in to;
	char text[64];
	uint8_t* data;
	int length, port;
	if (xsToInteger(xsArgc) < 3)
		xsTypeError("UDP: write(buffer, address, port)");
	xsToStringBuffer(xsArg(1), text, sizeof(text));
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	if (inet_pton(AF_INET, text, &to.sin_addr) != 1)
		xsUnknownError("UDP: invalid address %s", text);
	port = xsToInteger(xsArg(2));
	if ((port <= 0) || (port > 65535))
		xsRangeError("UDP: invalid port");
	to.sin_port = htons((uint16_t)port);
	if (!hostGetBuffer(the, &xsArg(0), &data, &length, 0))
		xsTypeError("UDP: write an ArrayBuffer, a Uint8Array or a DataView");
	(void)sendto(udp->fd, data, length, MSG_NOSIGNAL, (struct sockaddr*)&to, sizeof(to));
}

void udpBuild(xsMachine* the, xsSlot* host, xsSlot* prototype)
{
	*prototype = xsNewHostObject(udpDestructor);
	hostDefineFunction(the, prototype, "read", xs_udp_read, 0, xsDontEnum);
	hostDefineFunction(the, prototype, "write", xs_udp_write, 3, xsDontEnum);
	hostDefineFunction(the, prototype, "close", xs_udp_close, 0, xsDontEnum);
	hostDefineClass(the, host, "UDP", xs_udp_constructor, 1, prototype);
}

int udpPollCount(void)
{
	int count = 0;
	UDPRecord* udp;
	for (udp = gxUDPs; udp; udp = udp->next) {
		if (!udp->closed)
			count++;
	}
	return count;
}

int udpPollPrepare(struct pollfd* fds, int max)
{
	int count = 0;
	UDPRecord* udp;
	for (udp = gxUDPs; udp && (count < max); udp = udp->next) {
		if (udp->closed)
			continue;
		fds[count].fd = udp->fd;
		fds[count].events = POLLIN;
		fds[count].revents = 0;
		count++;
	}
	return count;
}

void udpPollDispatch(struct pollfd* fds, int count)
{
	int i;
	for (i = 0; i < count; i++) {
		UDPRecord* udp;
		if (!(fds[i].revents & POLLIN))
			continue;
		for (udp = gxUDPs; udp; udp = udp->next) {
			if (!udp->closed && (udp->fd == fds[i].fd))
				break;
		}
		if (!udp)
			continue;
		for (;;) {
			Datagram scratch;
			Datagram* datagram = (udp->count < kMaxDatagrams) ? &udp->datagrams[udp->count] : &scratch;
			socklen_t length = sizeof(datagram->from);
			ssize_t got = recvfrom(udp->fd, datagram->data, kMaxDatagramSize, 0, (struct sockaddr*)&datagram->from, &length);
			if (got < 0)
				break;
			if (datagram != &scratch) {
				datagram->length = (int)got;
				udp->count++;
				udp->triggered = 1;
			}
		}
	}
}

int udpDeliver(xsMachine* the)
{
	UDPRecord* udp;
	int delivered = 0;
	for (udp = gxUDPs; udp; udp = udp->next) {
		if (udp->closed || !udp->triggered)
			continue;
		udp->triggered = 0;
		if (udp->hasReadable && udp->count) {
			xsSlot argument = xsInteger(udp->count);
			udp->delivering = 1;
			hostCallback(the, &udp->onReadable, &udp->self, 1, &argument);
			udp->delivering = 0;
			delivered++;
		}
	}
	sweep();
	return delivered;
}

int udpAlive(void)
{
	return udpPollCount() > 0;
}

int udpPending(void)
{
	UDPRecord* udp;
	for (udp = gxUDPs; udp; udp = udp->next) {
		if (!udp->closed && udp->triggered && udp->hasReadable && udp->count)
			return 1;
	}
	return 0;
}
