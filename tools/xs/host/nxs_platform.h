/*
 * Platform header for the nats-xs XS host (Linux x86_64 / arm64, gcc).
 * Selected with -DINCLUDE_XSPLATFORM -DXSPLATFORM="nxs_platform.h" when compiling the XS engine
 * sources and our host. It keeps XS's default allocators (malloc-backed, so the creation budget is
 * what bounds the heap), key building and shared chunks, and leaves module lookup, module loading,
 * script parsing, promise-job queueing, aborts and the debugger hooks to the host (main.c).
 */
#ifndef __NXS_PLATFORM__
#define __NXS_PLATFORM__

#undef mxLinux
#define mxLinux 1

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <unistd.h>

#define mxUseGCCAtomics 1
#define mxUsePOSIXThreads 1

#define mxUseDefaultMachinePlatform 1
#define mxUseDefaultBuildKeys 1
#define mxUseDefaultChunkAllocation 1
#define mxUseDefaultSlotAllocation 1
#define mxUseDefaultSharedChunks 1

/* XS prints parser and engine reports with c_printf/c_vprintf: keep them off stdout, which belongs
   to trace() and the --memory line. */
#define c_printf(...) fprintf(stderr, __VA_ARGS__)
#define c_vprintf(FORMAT, ARGUMENTS) vfprintf(stderr, FORMAT, ARGUMENTS)

#define mxMachinePlatform \
	void* host; \
	void* waiterCondition; \
	void* waiterData; \
	void* waiterLink;

#endif /* __NXS_PLATFORM__ */
