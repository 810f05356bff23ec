/* simavr test harness: state shared by the run loop, the pty bridge, the pins and pacing. */
#ifndef HARNESS_H
#define HARNESS_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "sim_avr.h"

/* stdin and the pty are polled every this many cycles (31 us at 16 MHz), and pacing is checked:
 * with pace.c's lazy threshold the simulation never runs more than about 100 us ahead. */
#define HARNESS_PACE_CYCLES 500u

/* Scheduled pin edges the harness keeps (one simavr cycle timer serves them all: simavr has
 * only 64 timer slots, shared with the chip's own peripherals). */
#define HARNESS_MAX_SCHEDULED 4096

/* Ports B, C and D: every general-purpose pin of an ATmega328P. */
#define HARNESS_PORTS 3

typedef struct harness_t {
	avr_t *avr;
	uint32_t freq_hz;
	FILE *out;                 /* protocol lines: a dup of the stdout we were given */
	uint64_t cycle_base;       /* cycles before the last core reset (simavr may zero its count) */
	uint64_t cycle_before_reset;
	int reset_pending;
	int quit;                  /* quit command, stdin EOF or stdout gone */
	int injecting;             /* set while the harness itself raises a pin IRQ */

	/* pacing (pace.c) */
	int64_t start_mono_ns;     /* wall time of cycle 0 */
	int64_t worst_lag_ns;      /* furthest the simulation fell behind the wall clock */
	int64_t pace_sleeps;
	int64_t wake_late_ns;      /* average lateness of a wake-up, slept off in advance */

	/* uart bridge counters (uart_bridge.c) */
	uint64_t tx_bytes, rx_bytes, tx_dropped;

	/* stdin line buffer (harness.c) */
	char line[512];
	size_t line_len;
	int line_overflow;
} harness_t;

extern harness_t g_harness;
extern volatile sig_atomic_t g_stop_signal;

/* The harness cycle: monotonic across watchdog resets, what every protocol line reports. */
static inline uint64_t harness_cycle(const harness_t *h)
{
	return h->cycle_base + h->avr->cycle;
}

/* One protocol line on stdout, flushed; a closed stdout ends the run. */
void harness_emit(harness_t *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* pace.c */
void pace_start(harness_t *h);
void pace_to(harness_t *h, uint64_t cycle, int exact);
int64_t mono_ns(void);

/* uart_bridge.c */
int bridge_open(harness_t *h, char *path, size_t path_len);
void bridge_attach(harness_t *h);
int bridge_fd(void);
void bridge_tick(harness_t *h, int readable);
void bridge_after_reset(harness_t *h);
void bridge_flush_all(harness_t *h);

/* pins.c */
typedef struct pin_ref_t {
	int port;   /* 0..HARNESS_PORTS-1 for B, C, D */
	int bit;
} pin_ref_t;

int pins_parse(const char *name, pin_ref_t *pin);
const char *pins_name(pin_ref_t pin, char *buf, size_t len);
void pins_attach(harness_t *h);
void pins_apply(harness_t *h, pin_ref_t pin, int level);
int pins_schedule(harness_t *h, pin_ref_t pin, int level, uint64_t cycle);
void pins_after_reset(harness_t *h);

/* timer_flags.c */
void timer_flags_attach(harness_t *h);

#endif
