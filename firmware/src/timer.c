/* Timer1, prescaler 8: a free-running 2 MHz counter. The overflow interrupt counts the upper
 * 16 bits; the one subtle part is a read that lands between the counter wrapping and that
 * interrupt running, handled here once for every caller. */
#include "timer.h"

#include <avr/interrupt.h>
#include <avr/io.h>
#include <util/atomic.h>

static volatile uint16_t high_ticks;

void timer_init(void)
{
    TCCR1A = 0;
    TCNT1 = 0;
    /* ICNC1: the input-capture noise canceller wants 4 equal samples (0.25 us) before it
     * accepts an edge; a constant delay, so splits lose nothing, and needle glitches vanish. */
    TCCR1B = _BV(ICNC1) | _BV(CS11);
    TIFR1 = _BV(TOV1) | _BV(ICF1) | _BV(OCF1A);
    TIMSK1 = _BV(TOIE1);
}

ISR(TIMER1_OVF_vect)
{
    high_ticks++;
}

uint32_t ticks_from_low_locked(uint16_t low_ticks)
{
    uint16_t high = high_ticks;
    /* Overflow pending and a small value: the counter wrapped before the value was latched,
     * but the overflow interrupt has not run yet. A large value was latched before the wrap. */
    if ((TIFR1 & _BV(TOV1)) && low_ticks < 0x8000u) {
        high++;
    }
    return ((uint32_t)high << 16) | low_ticks;
}

uint32_t ticks_now(void)
{
    uint32_t now;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE)
    {
        now = ticks_from_low_locked(TCNT1);
    }
    return now;
}

uint32_t ticks_from_recent_low(uint16_t low_ticks, uint32_t now_ticks)
{
    return now_ticks - (uint16_t)((uint16_t)now_ticks - low_ticks);
}

void timer_alarm_arm(uint16_t low_ticks)
{
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE)
    {
        OCR1A = low_ticks;
        TIFR1 = _BV(OCF1A);
        TIMSK1 |= _BV(OCIE1A);
    }
}

void timer_alarm_disarm(void)
{
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE)
    {
        TIMSK1 &= (uint8_t)~_BV(OCIE1A);
    }
}

ISR(TIMER1_COMPA_vect)
{
    timer_alarm_fired();
}
