/* Actions due at a device tick (PROTOCOL.md section 6), carried out in the Timer1
 * compare-match interrupt so outputs switch within microseconds of the commanded tick. */
#ifndef SCHED_H
#define SCHED_H

#include <stdbool.h>
#include <stdint.h>

/* Actions of COMMAND (1..6) plus the device's own follow-ups. */
enum action {
    ACT_LIGHT = 1,
    ACT_DARK = 2,
    ACT_BEEP = 3,
    ACT_ARM = 4,
    ACT_DISARM = 5,
    ACT_POLARITY = 6,
    ACT_AUTO_DARK = 0x80, /* a light's duration ran out */
    ACT_BEEP_END = 0x81,  /* a beep's length ran out */
    ACT_BLINK = 0x82,     /* the next half period of a blinking light */
};

struct task {
    uint32_t at_ticks;
    uint16_t ref; /* cmd_id of the COMMAND behind it */
    uint16_t duration_ms;
    uint8_t action;
    uint8_t channel;
    uint8_t rgb;     /* bit 0 red, 1 green, 2 blue */
    uint8_t pattern; /* 0 solid, 1 slow blink, 2 fast blink, 3 pulse */
};

/* Queues a task; false when the table is full. Replaces a queued task with the same action
 * and channel when `replace` is set (a light's pending auto-dark, say). */
bool sched_add(const struct task *t, bool replace);

/* Forgets queued tasks of this action and channel. */
void sched_cancel(uint8_t action, uint8_t channel);

/* Carries a task out now; called with interrupts off. Each device kind provides it. */
void device_act_locked(const struct task *t);

#endif
