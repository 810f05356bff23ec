/* Timer interrupt flags: writing a one clears that flag, and only that flag.
 *
 * simavr 1.6's TIFRn write handler ignores the value written: it clears every flag of the
 * timer that is set at that moment (overflow, input capture, each compare) and drops each one's
 * pending interrupt. On the chip `TIFR1 = _BV(OCF1A)` clears OCF1A alone; in simavr 1.6 it also
 * throws away an input capture (or an overflow) that was raised a moment before while
 * interrupts were off, so its interrupt never runs. A firmware that re-arms a compare alarm
 * inside an interrupt or an atomic block loses the touch that landed there, or a counter wrap.
 *
 * The handler is replaced by one that clears (flag and pending interrupt) exactly the flags
 * whose bit is written as one. The timers' other registers keep simavr's handlers.
 */
#include <string.h>

#include "avr_timer.h"
#include "harness.h"
#include "sim_interrupts.h"

static void clear_if_written(avr_t *avr, avr_io_addr_t addr, uint8_t v, avr_int_vector_t *vector)
{
	if (!vector->vector || vector->raised.reg != addr)
		return;
	if ((v >> vector->raised.bit) & vector->raised.mask)
		avr_clear_interrupt(avr, vector);
}

static void tifr_write(avr_t *avr, avr_io_addr_t addr, uint8_t v, void *param)
{
	avr_timer_t *t = param;
	clear_if_written(avr, addr, v, &t->overflow);
	clear_if_written(avr, addr, v, &t->icr);
	for (int c = 0; c < AVR_TIMER_COMP_COUNT; c++)
		clear_if_written(avr, addr, v, &t->comp[c].interrupt);
}

void timer_flags_attach(harness_t *h)
{
	avr_t *avr = h->avr;
	for (avr_io_t *io = avr->io_port; io; io = io->next) {
		if (!io->kind || strcmp(io->kind, "timer") != 0)
			continue;
		/* the avr_io_t is the first member of simavr's timer */
		avr_timer_t *t = (avr_timer_t *)io;
		avr_io_addr_t reg = t->overflow.raised.reg;
		if (!reg)
			continue;
		/* Only a register the timer alone watches: a shared one has simavr's dispatcher,
		 * whose other clients must keep running. */
		if (avr->io[AVR_DATA_TO_IO(reg)].w.param != t) {
			fprintf(stderr, "simavr-harness: timer %c flags shared, left to simavr\n",
			        t->name);
			continue;
		}
		avr->io[AVR_DATA_TO_IO(reg)].w.c = tifr_write;
	}
}
