/* The gate: beam A on D8 (PB0), stamped by Timer1's input capture in hardware; beam B on D2
 * (PD2), stamped in its INT0 interrupt a few microseconds after the edge. Both have internal
 * pull-ups, so a receiver or an optocoupler that pulls the pin LOW when the beam is broken
 * works with no other part. The LED on D13 shows whether any beam is broken. */
#include <stdbool.h>

#include <avr/interrupt.h>
#include <avr/io.h>
#include <util/atomic.h>

#include "config.h"
#include "device.h"
#include "events.h"
#include "ident.h"
#include "sched.h"
#include "timer.h"

#define CH_A 0u
#define CH_B 1u
#define LED_BIT PB5
#define BOOT_FLASH_TICKS (200UL * TICKS_PER_MS)

const struct device_desc device_desc = {KIND_GATE, 2, CAP_BEAM};

static volatile uint8_t broken;   /* bit per channel: beam broken now */
static volatile uint8_t disarmed; /* bit per channel: edges not reported */
static volatile uint8_t level_b;  /* last level seen on D2 */
static uint32_t boot_ticks;

/* Called with interrupts off. `high` is the pin level after the edge. */
static void edge_locked(uint8_t channel, uint8_t high, uint32_t tick)
{
    uint8_t active_high = (uint8_t)((ident_polarity() >> channel) & 1u);
    uint8_t is_broken = (uint8_t)(high == active_high);
    uint8_t bit = (uint8_t)(1u << channel);
    broken = (uint8_t)(is_broken ? (broken | bit) : (broken & (uint8_t)~bit));
    if (!(disarmed & bit)) {
        events_push_locked(channel, is_broken ? EV_BEAM_BROKEN : EV_BEAM_RESTORED, tick, 0);
    }
}

static uint8_t pin_a(void)
{
    return (uint8_t)(PINB & _BV(PB0) ? 1u : 0u);
}

static uint8_t pin_b(void)
{
    return (uint8_t)(PIND & _BV(PD2) ? 1u : 0u);
}

/* Waits for the edge that leaves the pin's present level. */
static void capture_next_edge_locked(void)
{
    if (pin_a()) {
        TCCR1B &= (uint8_t)~_BV(ICES1);
    } else {
        TCCR1B |= _BV(ICES1);
    }
    TIFR1 = _BV(ICF1); /* changing the edge may set the flag by itself */
}

ISR(TIMER1_CAPT_vect)
{
    uint32_t tick = ticks_from_low_locked(ICR1);
    uint8_t rose = (uint8_t)(TCCR1B & _BV(ICES1) ? 1u : 0u);
    edge_locked(CH_A, rose, tick);
    capture_next_edge_locked();
    if (pin_a() != rose) {
        /* The pin went back before the edge was re-armed: that second edge had no capture,
         * so it gets the time of now, a few microseconds late rather than lost. */
        edge_locked(CH_A, pin_a(), ticks_from_low_locked(TCNT1));
    }
}

ISR(INT0_vect)
{
    uint32_t tick = ticks_from_low_locked(TCNT1);
    uint8_t high = pin_b();
    if (high != level_b) {
        level_b = high;
        edge_locked(CH_B, high, tick);
    }
    /* Same level: two edges came closer together than the interrupt could run; the beam is
     * as it was, and a break shorter than a few microseconds is not a body. */
}

void device_init(void)
{
    DDRB &= (uint8_t)~_BV(PB0);
    PORTB |= _BV(PB0);
    DDRD &= (uint8_t)~_BV(PD2);
    PORTD |= _BV(PD2);
    DDRB |= _BV(LED_BIT);
    ATOMIC_BLOCK(ATOMIC_FORCEON)
    {
        uint8_t pol = ident_polarity();
        uint8_t b = 0;
        if (pin_a() == (pol & 1u)) {
            b |= 1u;
        }
        level_b = pin_b();
        if (level_b == ((pol >> 1) & 1u)) {
            b |= 2u;
        }
        broken = b;
        capture_next_edge_locked();
        TIMSK1 |= _BV(ICIE1);
        EICRA = _BV(ISC00); /* INT0 on any change */
        EIFR = _BV(INTF0);
        EIMSK = _BV(INT0);
    }
    boot_ticks = ticks_now();
}

void device_poll(uint32_t now_ticks)
{
    bool flash = now_ticks - boot_ticks < BOOT_FLASH_TICKS;
    if (flash || broken) {
        PORTB |= _BV(LED_BIT);
    } else {
        PORTB &= (uint8_t)~_BV(LED_BIT);
    }
}

uint8_t device_check(uint8_t action, uint8_t channel)
{
    if (action != ACT_ARM && action != ACT_DISARM && action != ACT_POLARITY) {
        return RESULT_UNSUPPORTED;
    }
    return channel < device_desc.channels ? RESULT_OK : RESULT_NO_CHANNEL;
}

void device_configure(uint8_t action, uint8_t channel, uint8_t value)
{
    (void)action;
    uint8_t bit = (uint8_t)(1u << channel);
    uint8_t pol = ident_polarity();
    pol = (uint8_t)(value ? (pol | bit) : (pol & (uint8_t)~bit));
    ident_set_polarity(pol);
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE)
    {
        /* The beam's state is now read the other way round; no edge happened, so no event. */
        uint8_t high = channel == CH_A ? pin_a() : pin_b();
        broken = (uint8_t)(high == (value ? 1u : 0u) ? (broken | bit) : (broken & (uint8_t)~bit));
    }
}

void device_act_locked(const struct task *t)
{
    uint8_t bit = (uint8_t)(1u << t->channel);
    if (t->action == ACT_ARM) {
        disarmed &= (uint8_t)~bit;
    } else if (t->action == ACT_DISARM) {
        disarmed |= bit;
    }
}

uint8_t device_beams(uint8_t *out)
{
    uint8_t b = broken;
    /* An on/off receiver knows no percentages: full light, or none. */
    out[0] = (b & 1u) ? 0 : 100;
    out[1] = (b & 2u) ? 0 : 100;
    return 2;
}
