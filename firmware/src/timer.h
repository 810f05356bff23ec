/* The device clock: Timer1 at 2 MHz, extended to 32 bits by its overflow interrupt. */
#ifndef TIMER_H
#define TIMER_H

#include <stdint.h>

void timer_init(void);

/* The 32-bit tick counter, safe to call with interrupts on or off. */
uint32_t ticks_now(void);

/* The 32-bit tick of a 16-bit Timer1 value latched a moment ago (input capture, a byte's
 * arrival). Call with interrupts off, as inside an ISR, so the overflow flag cannot change. */
uint32_t ticks_from_low_locked(uint16_t low_ticks);

/* Extends a 16-bit stamp taken less than 32 ms ago, using the current counter. */
uint32_t ticks_from_recent_low(uint16_t low_ticks, uint32_t now_ticks);

/* The scheduler's alarm: the compare-match interrupt calls timer_alarm_fired() (sched.c). */
void timer_alarm_arm(uint16_t low_ticks);
void timer_alarm_disarm(void);
void timer_alarm_fired(void);

#endif
