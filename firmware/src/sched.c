/* A handful of timed tasks behind one compare-match alarm. The alarm is set to the low 16 bits
 * of the earliest task; a task more than one counter wrap (32.8 ms) away simply sees the alarm
 * fire a few times before it is due. */
#include "sched.h"

#include <util/atomic.h>

#include "timer.h"

#define SCHED_SIZE 8u

static struct task tasks[SCHED_SIZE];
static uint8_t used; /* bit i: tasks[i] holds a task */

static bool due(uint32_t at_ticks, uint32_t now_ticks)
{
    return (int32_t)(at_ticks - now_ticks) <= 0;
}

/* Runs every due task, then points the alarm at the earliest one left. Setting the alarm to
 * a value the counter is about to pass would miss it for a whole wrap, so after arming it
 * looks again and runs what became due meanwhile. */
static void service_locked(void)
{
    for (;;) {
        uint32_t now = ticks_now();
        for (uint8_t i = 0; i < SCHED_SIZE; i++) {
            if ((used & (1u << i)) && due(tasks[i].at_ticks, now)) {
                /* A copy: the action may queue a follow-up into this very slot. */
                struct task t = tasks[i];
                used &= (uint8_t)~(1u << i);
                device_act_locked(&t);
            }
        }
        if (!used) {
            timer_alarm_disarm();
            return;
        }
        uint8_t first = 0xFF;
        for (uint8_t i = 0; i < SCHED_SIZE; i++) {
            if ((used & (1u << i)) &&
                (first == 0xFF || (int32_t)(tasks[i].at_ticks - tasks[first].at_ticks) < 0)) {
                first = i;
            }
        }
        timer_alarm_arm((uint16_t)tasks[first].at_ticks);
        /* Two ticks of margin: the compare unit needs the counter to reach the value after
         * it is written. */
        if (!due(tasks[first].at_ticks, ticks_now() + 2u)) {
            return;
        }
    }
}

void timer_alarm_fired(void)
{
    service_locked();
}

bool sched_add(const struct task *t, bool replace)
{
    bool ok = false;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE)
    {
        uint8_t slot = 0xFF;
        for (uint8_t i = 0; i < SCHED_SIZE; i++) {
            bool same = (used & (1u << i)) && tasks[i].action == t->action &&
                        tasks[i].channel == t->channel;
            if (replace && same) {
                slot = i;
                break;
            }
            if (slot == 0xFF && !(used & (1u << i))) {
                slot = i;
            }
        }
        if (slot != 0xFF) {
            tasks[slot] = *t;
            used |= (uint8_t)(1u << slot);
            service_locked();
            ok = true;
        }
    }
    return ok;
}

void sched_cancel(uint8_t action, uint8_t channel)
{
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE)
    {
        for (uint8_t i = 0; i < SCHED_SIZE; i++) {
            if ((used & (1u << i)) && tasks[i].action == action && tasks[i].channel == channel) {
                used &= (uint8_t)~(1u << i);
            }
        }
    }
}
