/*
 * nats-xs XS host: declarations shared by the host's C files.
 *
 * One process runs one app machine. The device modules are native classes and functions built in
 * a preparation machine, together with the small JS modules that export them (tools/xs/modules/),
 * which is then shared (frozen like ROM) and cloned into the app machine under the creation budget,
 * the way a Moddable device preloads its runtime modules into flash.
 */
#ifndef __NXS_HOST__
#define __NXS_HOST__

#include "xsAll.h"
#include "xs.h"

#include <stdint.h>

/* Process exit statuses (documented in tools/xs/README.md). */
enum {
	kExitOK = 0,
	kExitException = 1,
	kExitUsage = 2,
	kExitMemoryFull = 3,
	kExitStackOverflow = 4,
	kExitAbort = 5,
};

/* Host settings from the command line. */
typedef struct {
	int sendBufferSize;     /* TCP send buffer the host holds per socket (ESP32: 8192) */
	int receiveBufferSize;  /* TCP bytes the host buffers per socket before it stops reading */
} txHostSettings;

extern txHostSettings gxHostSettings;

/* main.c: the event loop's view of the app machine. */
extern xsMachine* gxApp;
extern void hostReportException(xsMachine* the, const char* what);
extern void hostExit(xsMachine* the, int status);
extern void hostRunJobs(xsMachine* the);
extern uint64_t hostNow(void);

/* Each device unit adds its natives to the object in xsArg(0) of a preparation call and takes part
   in the loop: prepare its poll entries, dispatch poll results, deliver callbacks, say whether it
   keeps the loop alive, and how soon it needs a turn. */
struct pollfd;
extern void tcpBuild(xsMachine* the, xsSlot* host, xsSlot* scratch);
extern int tcpPollCount(void);
extern int tcpPollPrepare(struct pollfd* fds, int max);
extern void tcpPollDispatch(struct pollfd* fds, int count);
extern void tcpFlush(void);
extern int tcpDeliver(xsMachine* the);
extern int tcpAlive(void);
extern int tcpPending(void);

extern void udpBuild(xsMachine* the, xsSlot* host, xsSlot* scratch);
extern int udpPollCount(void);
extern int udpPollPrepare(struct pollfd* fds, int max);
extern void udpPollDispatch(struct pollfd* fds, int count);
extern int udpDeliver(xsMachine* the);
extern int udpAlive(void);
extern int udpPending(void);

extern void timerBuild(xsMachine* the, xsSlot* host, xsSlot* scratch);
extern int timerFire(xsMachine* the);
extern int timerAlive(void);
extern int64_t timerNextDelay(void);

extern void textBuild(xsMachine* the, xsSlot* host, xsSlot* scratch);
extern void cryptBuild(xsMachine* the, xsSlot* host, xsSlot* scratch);
extern void filesBuild(xsMachine* the, xsSlot* host, xsSlot* scratch);

extern void tlsBuild(xsMachine* the, xsSlot* host, xsSlot* scratch);
extern void otaBuild(xsMachine* the, xsSlot* host, xsSlot* scratch);

/* Builders run in the preparation machine and keep every object they make reachable from a rooted
   slot (host, scratch), since any allocation may collect. */
extern void hostDefineFunction(xsMachine* the, xsSlot* target, const char* name, xsCallback callback, int length, int flags);
extern void hostDefineClass(xsMachine* the, xsSlot* target, const char* name, xsCallback constructor, int length, xsSlot* prototype);

/* The host data of an object made by one of our classes (tag: the class's destructor), NULL once
   released; throws a TypeError naming `what` for anything else. */
extern void* hostGetData(xsMachine* the, xsSlot* slot, xsDestructor tag, const char* what);

/* Bytes of an ArrayBuffer, a byte-sized TypedArray or a DataView: 0 for anything else. The pointer
   is valid until the next allocation (chunks move when the collector compacts them). */
extern int hostGetBuffer(xsMachine* the, xsSlot* slot, uint8_t** data, int* length, int writable);

/* Calls a JS callback from the loop: an exception that escapes is uncaught, as on the device. */
extern void hostCallback(xsMachine* the, xsSlot* function, xsSlot* self, int argc, xsSlot* argv);

#endif
