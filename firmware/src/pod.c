/* The light pod: touch on D8 (PB0), stamped by Timer1's input capture; light red D9 (PB1),
 * green D10 (PB2), blue D11 (PB3) and buzzer D5 (PD5), all active HIGH. Every output change
 * happens inside the scheduler's compare-match interrupt (or at once for a late or NOW
 * command), and the onset reported is the tick read right after the port write. */
#include <stdbool.h>

#include <avr/interrupt.h>
#include <avr/io.h>
#include <util/atomic.h>

#include "config.h"
#include "device.h"
#include "events.h"
#include "sched.h"
#include "timer.h"

#define RGB_SHIFT 1u /* red PB1, green PB2, blue PB3 */
#define RGB_MASK (0x07u << RGB_SHIFT)
#define LED_BIT PB5
#define BOOT_FLASH_TICKS (200UL * TICKS_PER_MS)

const struct device_desc device_desc = {KIND_POD, 1, CAP_LIGHT | CAP_BUZZER | CAP_TOUCH};

static volatile bool touch_disarmed;
static bool lit;          /* a light command is in force (its colour may be in a blink's off half) */
static uint8_t lit_rgb;
static uint16_t lit_ref;
static uint32_t boot_ticks;

ISR(TIMER1_CAPT_vect)
{
    uint32_t tick = ticks_from_low_locked(ICR1);
    if (!touch_disarmed) {
        events_push_locked(0, EV_TOUCHED, tick, 0);
    }
}

static void set_rgb_locked(uint8_t rgb)
{
    PORTB = (uint8_t)((PORTB & (uint8_t)~RGB_MASK) | (uint8_t)(rgb << RGB_SHIFT));
}

/* Half periods of the blink patterns, on then off, in ms (PROTOCOL.md 6: slow 1 Hz, fast
 * 4 Hz; pulse has no dimming without PWM here, so it is a long on and a short off). */
static uint16_t on_ms(uint8_t pattern)
{
    return pattern == 1 ? 500u : pattern == 2 ? 125u : 750u;
}

static uint16_t off_ms(uint8_t pattern)
{
    return pattern == 1 ? 500u : pattern == 2 ? 125u : 250u;
}

static void follow_up(uint8_t action, const struct task *from, uint32_t at_ticks)
{
    struct task next = *from;
    next.action = action;
    next.at_ticks = at_ticks;
    sched_add(&next, true);
}

static void light_locked(const struct task *t)
{
    set_rgb_locked(t->rgb);
    uint32_t onset = ticks_now();
    /* Every light command carried out has its own onset, even on a lit light of the same
     * colour, so the host can pair each cue with the moment it showed (PROTOCOL.md 6). */
    events_push_locked(0, EV_LIGHT_ON, onset, t->ref);
    lit = true;
    lit_rgb = t->rgb;
    lit_ref = t->ref;
    uint16_t ms = t->duration_ms ? t->duration_ms : LIGHT_DEFAULT_MS;
    follow_up(ACT_AUTO_DARK, t, onset + (uint32_t)ms * TICKS_PER_MS);
    if (t->pattern != 0) {
        follow_up(ACT_BLINK, t, onset + (uint32_t)on_ms(t->pattern) * TICKS_PER_MS);
    } else {
        sched_cancel(ACT_BLINK, 0);
    }
}

static void dark_locked(uint16_t ref)
{
    set_rgb_locked(0);
    if (lit) {
        events_push_locked(0, EV_LIGHT_OFF, ticks_now(), ref);
    }
    lit = false;
    sched_cancel(ACT_AUTO_DARK, 0);
    sched_cancel(ACT_BLINK, 0);
}

static void blink_locked(const struct task *t)
{
    if (!lit || t->ref != lit_ref) {
        return;
    }
    bool showing = (PORTB & RGB_MASK) != 0 || lit_rgb == 0;
    set_rgb_locked(showing ? 0 : lit_rgb);
    uint16_t ms = showing ? off_ms(t->pattern) : on_ms(t->pattern);
    follow_up(ACT_BLINK, t, t->at_ticks + (uint32_t)ms * TICKS_PER_MS);
}

static void beep_locked(const struct task *t)
{
    PORTD |= _BV(PD5);
    uint32_t onset = ticks_now();
    events_push_locked(0, EV_BEEP, onset, t->ref);
    uint16_t ms = t->duration_ms ? t->duration_ms : BEEP_DEFAULT_MS;
    follow_up(ACT_BEEP_END, t, onset + (uint32_t)ms * TICKS_PER_MS);
}

void device_act_locked(const struct task *t)
{
    switch (t->action) {
    case ACT_LIGHT:
        light_locked(t);
        break;
    case ACT_DARK:
        dark_locked(t->ref);
        break;
    case ACT_AUTO_DARK:
        if (lit && t->ref == lit_ref) {
            dark_locked(t->ref);
        }
        break;
    case ACT_BLINK:
        blink_locked(t);
        break;
    case ACT_BEEP:
        beep_locked(t);
        break;
    case ACT_BEEP_END:
        PORTD &= (uint8_t)~_BV(PD5);
        break;
    case ACT_ARM:
        touch_disarmed = false;
        break;
    case ACT_DISARM:
        touch_disarmed = true;
        break;
    default:
        break;
    }
}

void device_init(void)
{
    DDRB &= (uint8_t)~_BV(PB0);
    PORTB |= _BV(PB0);
    DDRB |= RGB_MASK | _BV(LED_BIT);
    DDRD |= _BV(PD5);
    ATOMIC_BLOCK(ATOMIC_FORCEON)
    {
        set_rgb_locked(0);
        PORTD &= (uint8_t)~_BV(PD5);
        TCCR1B &= (uint8_t)~_BV(ICES1); /* falling edge: touched */
        TIFR1 = _BV(ICF1);
        TIMSK1 |= _BV(ICIE1);
    }
    boot_ticks = ticks_now();
}

void device_poll(uint32_t now_ticks)
{
    bool flash = now_ticks - boot_ticks < BOOT_FLASH_TICKS;
    bool touched = !(PINB & _BV(PB0));
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE)
    {
        if (flash || touched) {
            PORTB |= _BV(LED_BIT);
        } else {
            PORTB &= (uint8_t)~_BV(LED_BIT);
        }
    }
}

uint8_t device_check(uint8_t action, uint8_t channel)
{
    if (action < ACT_LIGHT || action > ACT_DISARM) {
        return RESULT_UNSUPPORTED; /* polarity too: a pod's touch is always LOW */
    }
    return channel < device_desc.channels ? RESULT_OK : RESULT_NO_CHANNEL;
}

void device_configure(uint8_t action, uint8_t channel, uint8_t value)
{
    (void)action;
    (void)channel;
    (void)value;
}

uint8_t device_beams(uint8_t *out)
{
    (void)out;
    return 0;
}
