/*
 * nats-xs XS host: the "timer" module's natives, with the Moddable SDK's semantics.
 *
 *   Timer.set(callback[, interval[, repeat]])  one shot after interval ms (next turn when omitted
 *                                             or 0); with repeat, then every repeat ms
 *   Timer.repeat(callback, interval)          every interval ms
 *   Timer.schedule(id[, interval[, repeat]])  reschedules; without interval the timer stays
 *                                             allocated but does not fire
 *   Timer.clear(id)                           cancels; undefined, null or a spent one shot is fine
 *   Timer.delay(ms)                           blocks
 *
 * The callback gets the timer id. One-shot timers are cleared after their callback (unless the
 * callback rescheduled its own timer). Timers due in the same turn fire in creation order; a timer
 * created during a turn waits for the next one.
 */

#include "host.h"

typedef struct TimerRecord TimerRecord;
struct TimerRecord {
	TimerRecord* next;
	uint64_t trigger;
	int64_t repeat;
	uint8_t scheduled;
	uint8_t eligible;
	uint8_t firing;
	uint8_t rescheduled;
	uint8_t cleared;
	xsSlot self;
	xsSlot callback;
};

static TimerRecord* gxTimers = NULL;

/* Tags timer ids; the record is freed by the loop, never by the collector. */
static void timerDestructor(void* data)
{
}

/* As Moddable's timer reads an interval (xsmcToInteger into a C int, modules/base/timer/modTimer.c):
   ECMAScript ToInt32, so 2^31 ms and more wrap modulo 2^32, and an interval <= 0 is due at once. */
static int64_t toMilliseconds(xsMachine* the, xsSlot* slot)
{
	int32_t value = xsToInteger(*slot);
	return value > 0 ? (int64_t)value : 0;
}

static void release(xsMachine* the, TimerRecord* timer)
{
	timer->cleared = 1;
	timer->scheduled = 0;
	xsSetHostData(timer->self, NULL);
	xsForget(timer->self);
	xsForget(timer->callback);
}

static void sweep(void)
{
	TimerRecord** address = &gxTimers;
	TimerRecord* timer;
	while ((timer = *address)) {
		if (timer->cleared && !timer->firing) {
			*address = timer->next;
			free(timer);
		}
		else
			address = &timer->next;
	}
}

static void create(xsMachine* the, int64_t interval, int64_t repeat)
{
	TimerRecord* timer;
	TimerRecord** address;
	if (!xsIsCallable(xsArg(0)))
		xsTypeError("timer: callback is not a function");
	timer = calloc(1, sizeof(TimerRecord));
	if (!timer)
		xsUnknownError("timer: no memory");
	timer->callback = xsArg(0);
	timer->self = xsNewHostObject(timerDestructor);
	timer->trigger = hostNow() + interval;
	timer->repeat = repeat;
	timer->scheduled = 1;
	xsSetHostData(timer->self, timer);
	xsRemember(timer->self);
	xsRemember(timer->callback);
	address = &gxTimers;
	while (*address)
		address = &(*address)->next;
	*address = timer;
	xsResult = timer->self;
}

static TimerRecord* lookup(xsMachine* the, xsSlot* slot, int strict)
{
	TimerRecord* timer;
	if (xsTypeOf(*slot) != xsReferenceType) {
		if (strict || ((xsTypeOf(*slot) != xsUndefinedType) && (xsTypeOf(*slot) != xsNullType)))
			xsTypeError("timer: invalid timer");
		return NULL;
	}
	timer = hostGetData(the, slot, timerDestructor, "timer");
	if (!timer && strict)
		xsUnknownError("timer: the timer was cleared");
	return timer;
}

static void xs_timer_set(xsMachine* the)
{
	int argc = xsToInteger(xsArgc);
	int64_t interval = (argc > 1) ? toMilliseconds(the, &xsArg(1)) : 0;
	int64_t repeat = (argc > 2) ? toMilliseconds(the, &xsArg(2)) : 0;
	create(the, interval, repeat);
}

static void xs_timer_repeat(xsMachine* the)
{
	int64_t interval = (xsToInteger(xsArgc) > 1) ? toMilliseconds(the, &xsArg(1)) : 0;
	create(the, interval, interval);
}

static void xs_timer_schedule(xsMachine* the)
{
	int argc = xsToInteger(xsArgc);
	TimerRecord* timer = lookup(the, &xsArg(0), 1);
	if ((argc < 2) || (xsTypeOf(xsArg(1)) == xsUndefinedType)) {
		timer->scheduled = 0;
		return;
	}
	timer->trigger = hostNow() + toMilliseconds(the, &xsArg(1));
	timer->repeat = (argc > 2) ? toMilliseconds(the, &xsArg(2)) : 0;
	timer->scheduled = 1;
	timer->eligible = 0;
	if (timer->firing)
		timer->rescheduled = 1;
}

static void xs_timer_clear(xsMachine* the)
{
	TimerRecord* timer;
	if (xsToInteger(xsArgc) < 1)
		return;
	timer = lookup(the, &xsArg(0), 0);
	if (timer && !timer->cleared) {
		release(the, timer);
		sweep();
	}
}

static void xs_timer_delay(xsMachine* the)
{
	int64_t ms = (xsToInteger(xsArgc) > 0) ? toMilliseconds(the, &xsArg(0)) : 0;
	struct timespec ts;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) != 0)
		;
}

void timerBuild(xsMachine* the, xsSlot* host, xsSlot* scratch)
{
	hostDefineFunction(the, host, "timerSet", xs_timer_set, 1, xsDontEnum);
	hostDefineFunction(the, host, "timerRepeat", xs_timer_repeat, 2, xsDontEnum);
	hostDefineFunction(the, host, "timerSchedule", xs_timer_schedule, 2, xsDontEnum);
	hostDefineFunction(the, host, "timerClear", xs_timer_clear, 1, xsDontEnum);
	hostDefineFunction(the, host, "timerDelay", xs_timer_delay, 1, xsDontEnum);
}

int timerFire(xsMachine* the)
{
	uint64_t now = hostNow();
	TimerRecord* timer;
	int fired = 0;
	for (timer = gxTimers; timer; timer = timer->next)
		timer->eligible = timer->scheduled && !timer->cleared && (timer->trigger <= now);
	for (;;) {
		xsSlot self, callback;
		for (timer = gxTimers; timer; timer = timer->next) {
			if (timer->eligible)
				break;
		}
		if (!timer)
			break;
		timer->eligible = 0;
		if (timer->repeat)
			timer->trigger += timer->repeat;
		timer->firing = 1;
		timer->rescheduled = 0;
		self = timer->self;
		callback = timer->callback;
		{
			xsSlot global = xsGlobal;
			hostCallback(the, &callback, &global, 1, &self);
		}
		timer->firing = 0;
		if (!timer->cleared && !timer->repeat && !timer->rescheduled)
			release(the, timer);
		sweep();
		fired++;
	}
	return fired;
}

int timerAlive(void)
{
	TimerRecord* timer;
	for (timer = gxTimers; timer; timer = timer->next) {
		if (timer->scheduled && !timer->cleared)
			return 1;
	}
	return 0;
}

int64_t timerNextDelay(void)
{
	uint64_t now = hostNow();
	int64_t delay = -1;
	TimerRecord* timer;
	for (timer = gxTimers; timer; timer = timer->next) {
		if (timer->scheduled && !timer->cleared) {
			int64_t delta = (timer->trigger <= now) ? 0 : (int64_t)(timer->trigger - now);
			if ((delay < 0) || (delta < delay))
				delay = delta;
		}
	}
	return delay;
}
