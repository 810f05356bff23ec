/* Wall-clock pacing: simulated time (cycles / F_CPU) follows CLOCK_MONOTONIC.
 *
 * Unpaced, simavr runs several times faster than the chip, and every device clock rate the
 * host fits would be wrong by that factor. The harness sleeps whenever the simulation gets
 * ahead of the wall clock; when the machine is too slow it runs flat out, catches up (so the
 * long-run rate stays right) and records how far behind it fell, which `cycle` reports.
 *
 * Each sleep costs tens of microseconds of CPU on a virtual machine, so between host-visible
 * moments the simulation may run up to PACE_LAZY_AHEAD_NS ahead (plus one polling interval:
 * about 100 us at 16 MHz). At a host-visible moment (a byte handed to the pty, input taken
 * from the pty or stdin) the caller asks for an exact pace: the wall clock must have reached the
 * cycle, so the host never sees a byte early and its bytes never reach the firmware before they
 * were written. Sleeps aim early by the measured wake-up latency (an average), so exact paces
 * land on time on average instead of always late.
 */
#include <errno.h>
#include <sys/prctl.h>
#include <time.h>

#include "harness.h"

/* Lazy paces let the simulation this far ahead before sleeping. */
#define PACE_LAZY_AHEAD_NS 70000
/* Shorter sleeps are not worth their wake-up cost. */
#define PACE_MIN_SLEEP_NS 2000
/* Weight of a new wake-up latency sample in the running average (1/8). */
#define PACE_LATE_SHIFT 3

int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t cycles_to_ns(const harness_t *h, uint64_t cycles)
{
	/* split so cycles * 1e9 cannot overflow 64 bits after a few hours */
	uint64_t whole_s = cycles / h->freq_hz;
	uint64_t rest = cycles % h->freq_hz;
	return (int64_t)(whole_s * 1000000000ULL + rest * 1000000000ULL / h->freq_hz);
}

void pace_start(harness_t *h)
{
	/* The default 50 us timer slack would make every short sleep overshoot by that much. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	h->start_mono_ns = mono_ns() - cycles_to_ns(h, harness_cycle(h));
	h->worst_lag_ns = 0;
	h->wake_late_ns = 0;
}

void pace_to(harness_t *h, uint64_t cycle, int exact)
{
	int64_t target_ns = h->start_mono_ns + cycles_to_ns(h, cycle);
	int64_t now_ns = mono_ns();
	int64_t ahead_ns = target_ns - now_ns;
	if (ahead_ns <= 0) {
		if (-ahead_ns > h->worst_lag_ns)
			h->worst_lag_ns = -ahead_ns;
		return;
	}
	if (!exact && ahead_ns < PACE_LAZY_AHEAD_NS)
		return;
	int64_t wake_ns = target_ns - h->wake_late_ns;
	if (wake_ns - now_ns < PACE_MIN_SLEEP_NS)
		return;
	struct timespec ts = {
		.tv_sec = wake_ns / 1000000000LL,
		.tv_nsec = wake_ns % 1000000000LL,
	};
	/* a signal ends the sleep early: the run loop then sees the stop flag */
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR &&
	       !g_stop_signal) {
	}
	int64_t late_ns = mono_ns() - wake_ns;
	h->wake_late_ns += (late_ns - h->wake_late_ns) >> PACE_LATE_SHIFT;
	h->pace_sleeps++;
}
