/* The retransmit buffer: every edge and every onset, kept until the host acknowledges it
 * (PROTOCOL.md section 5). Interrupts add; the main loop sends, re-sends and forgets. */
#ifndef EVENTS_H
#define EVENTS_H

#include <stdbool.h>
#include <stdint.h>

enum event_kind {
    EV_BEAM_BROKEN = 1,
    EV_BEAM_RESTORED = 2,
    EV_TOUCHED = 3,
    EV_LIGHT_ON = 4,
    EV_LIGHT_OFF = 5,
    EV_BEEP = 6,
};

/* Adds an event; false (and counted as dropped) when the buffer is full. Call with interrupts
 * off: from an ISR, or inside an atomic block. */
bool events_push_locked(uint8_t channel, uint8_t kind, uint32_t tick, uint16_t ref);

/* Main loop: sends what is due (a NAK's burst, a timed-out oldest event, new events) while the
 * transmit ring has room. */
void events_poll(uint32_t now_ticks);

void events_ack(uint16_t evseq, uint32_t now_ticks);
void events_nak(uint16_t evseq);

/* After a HELLO: send every unacknowledged event again, oldest first, so a host that has just
 * (re)started gets them all (PROTOCOL.md section 5, first contact). */
void events_resend_all(void);

bool events_full(void);
uint16_t events_dropped(void);

#endif
