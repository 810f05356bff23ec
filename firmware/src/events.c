/* Retransmit buffer and adaptive RTO. Slots are written by interrupts at `tail` and freed by
 * the main loop at `head`; both indices are single bytes, so each side reads the other's
 * atomically, and 8-bit arithmetic wraps them for free over a 128-slot ring. */
#include "events.h"

#include <util/atomic.h>

#include "config.h"
#include "frame.h"

#define MSG_EVENT 0x10u
#define NAK_BURST 8u

struct slot {
    uint32_t tick;
    uint16_t ref;
    uint8_t channel;
    uint8_t kind;
};

static struct slot ring[EV_CAP];
static volatile uint8_t tail; /* next free slot (interrupts and atomic blocks) */
static volatile uint8_t head; /* oldest unacknowledged slot (main loop) */
static volatile uint16_t dropped;

static uint16_t head_evseq; /* event number of ring[head]: the first event of a boot is 0 */
static uint8_t send_next;   /* next slot to send in order */
static uint8_t sent_end;    /* one past the furthest slot ever sent */
static uint8_t burst_next;  /* a NAK's re-send cursor */
static uint8_t burst_left;

static uint32_t oldest_sent_ticks; /* when the head slot was last sent */

/* RTO per PROTOCOL.md 5: Jacobson's estimator with Karn's rule, one timed event at a time. */
static bool have_sample;
static uint32_t srtt_ticks;
static uint32_t rttvar_ticks;
static uint32_t rto_base_ticks = RTO_FIRST_TICKS;
static uint8_t backoff_shift;
static bool timing;
static uint16_t timed_evseq;
static uint32_t timed_sent_ticks;

static uint8_t count(uint8_t from, uint8_t to)
{
    return (uint8_t)(to - from);
}

bool events_push_locked(uint8_t channel, uint8_t kind, uint32_t tick, uint16_t ref)
{
    uint8_t t = tail;
    if (count(head, t) >= EV_CAP) {
        dropped++;
        return false;
    }
    struct slot *s = &ring[t % EV_CAP];
    s->tick = tick;
    s->ref = ref;
    s->channel = channel;
    s->kind = kind;
    tail = (uint8_t)(t + 1u);
    return true;
}

bool events_full(void)
{
    return count(head, tail) >= EV_CAP;
}

uint16_t events_dropped(void)
{
    uint16_t n;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE)
    {
        n = dropped;
    }
    return n;
}

static uint32_t rto_ticks(void)
{
    uint32_t rto = rto_base_ticks << backoff_shift;
    if (rto > RTO_MAX_TICKS || backoff_shift > 6) {
        rto = RTO_MAX_TICKS;
    }
    return rto;
}

static void rtt_sample(uint32_t r)
{
    if (!have_sample) {
        srtt_ticks = r;
        rttvar_ticks = r / 2u;
        have_sample = true;
    } else {
        uint32_t diff = srtt_ticks > r ? srtt_ticks - r : r - srtt_ticks;
        rttvar_ticks = rttvar_ticks - rttvar_ticks / 4u + diff / 4u;
        srtt_ticks = srtt_ticks - srtt_ticks / 8u + r / 8u;
    }
    uint32_t var4 = 4u * rttvar_ticks;
    uint32_t rto = srtt_ticks + (var4 > TICKS_PER_MS ? var4 : TICKS_PER_MS);
    if (rto < RTO_MIN_TICKS) {
        rto = RTO_MIN_TICKS;
    }
    if (rto > RTO_MAX_TICKS) {
        rto = RTO_MAX_TICKS;
    }
    rto_base_ticks = rto;
    backoff_shift = 0;
}

static bool send_slot(uint8_t index, uint32_t now_ticks)
{
    const struct slot *s = &ring[index % EV_CAP];
    uint16_t evseq = (uint16_t)(head_evseq + count(head, index));
    uint8_t p[10] = {
        (uint8_t)(evseq >> 8), (uint8_t)evseq, s->channel, s->kind,
        (uint8_t)(s->tick >> 24), (uint8_t)(s->tick >> 16), (uint8_t)(s->tick >> 8),
        (uint8_t)s->tick, (uint8_t)(s->ref >> 8), (uint8_t)s->ref,
    };
    if (!frame_send(MSG_EVENT, p, sizeof p)) {
        return false;
    }
    bool first_time = count(head, index) >= count(head, sent_end);
    if (first_time) {
        sent_end = (uint8_t)(index + 1u);
        if (!timing) {
            timing = true;
            timed_evseq = evseq;
            timed_sent_ticks = now_ticks;
        }
    } else if (timing && evseq == timed_evseq) {
        timing = false; /* Karn: a re-sent event's round trip is ambiguous */
    }
    if (index == head) {
        oldest_sent_ticks = now_ticks;
    }
    return true;
}

void events_poll(uint32_t now_ticks)
{
    uint8_t t = tail;
    uint8_t h = head;
    while (burst_left > 0 && count(h, burst_next) < count(h, sent_end)) {
        if (!send_slot(burst_next, now_ticks)) {
            return;
        }
        burst_next++;
        burst_left--;
    }
    burst_left = 0;
    /* The oldest event has been sent (and is not about to be sent in order anyway). */
    bool oldest_sent = sent_end != h && send_next != h;
    if (oldest_sent && now_ticks - oldest_sent_ticks > rto_ticks()) {
        if (!send_slot(h, now_ticks)) {
            return;
        }
        if (backoff_shift < 6) {
            backoff_shift++;
        }
    }
    while (send_next != t) {
        if (!send_slot(send_next, now_ticks)) {
            return;
        }
        send_next++;
    }
}

void events_ack(uint16_t evseq, uint32_t now_ticks)
{
    uint16_t covered = (uint16_t)(evseq - head_evseq) + 1u; /* events this ACK covers */
    uint8_t sent = count(head, sent_end);
    if (covered == 0u || covered > sent) {
        return; /* a repeat of an older ACK, or one for events never sent */
    }
    if (timing && (uint16_t)(timed_evseq - head_evseq) < covered) {
        timing = false;
        rtt_sample(now_ticks - timed_sent_ticks);
    }
    uint8_t h = (uint8_t)(head + (uint8_t)covered);
    if (count(head, send_next) < (uint8_t)covered) {
        send_next = h;
    }
    if (count(head, burst_next) < (uint8_t)covered) {
        burst_next = h;
    }
    head_evseq = (uint16_t)(head_evseq + covered);
    head = h; /* frees the slots for the interrupts */
    oldest_sent_ticks = now_ticks;
    backoff_shift = 0;
}

void events_nak(uint16_t evseq)
{
    uint16_t offset = (uint16_t)(evseq - head_evseq);
    uint8_t sent = count(head, sent_end);
    /* A number this device no longer has (acknowledged to another host, or never used): the
     * oldest event it has is all it can offer. */
    burst_next = (uint8_t)(head + (offset < sent ? (uint8_t)offset : 0u));
    burst_left = NAK_BURST;
}

void events_resend_all(void)
{
    send_next = head;
    burst_left = 0;
    timing = false;
}
