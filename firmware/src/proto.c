/* Protocol v1 (hardware/PROTOCOL.md): answers IDENTIFY, PING, COMMAND, EVENT_ACK and EVENT_NAK,
 * and sends HELLO, STATUS and events. Replies wait in small queues and go out in a fixed order
 * of urgency: PONG first (its round trip feeds the host's clock fit), then COMMAND_ACK, HELLO,
 * STATUS, and events last. */
#include "proto.h"

#include <stdbool.h>
#include <util/atomic.h>

#include "config.h"
#include "device.h"
#include "events.h"
#include "ident.h"
#include "sched.h"

enum msg_type {
    MSG_HELLO = 0x01,
    MSG_IDENTIFY = 0x02,
    MSG_EVENT_ACK = 0x03,
    MSG_EVENT_NAK = 0x04,
    MSG_COMMAND_ACK = 0x05,
    MSG_PING = 0x20,
    MSG_PONG = 0x21,
    MSG_COMMAND = 0x30,
    MSG_STATUS = 0x40,
};

#define PONG_QUEUE 2u
#define ACK_QUEUE 4u
#define RECENT_CMDS 8u
#define CMD_FLAG_NOW 0x01u

struct pong {
    uint32_t nonce;
    uint32_t tick;
};

struct cmd_result {
    uint16_t cmd_id;
    uint8_t result;
};

static struct pong pongs[PONG_QUEUE];
static uint8_t pong_count;
static struct cmd_result acks[ACK_QUEUE];
static uint8_t ack_count;
static struct cmd_result recent[RECENT_CMDS]; /* commands already carried out */
static uint8_t recent_next;
static bool hello_due;
static bool status_due;
static uint32_t last_status_ticks;
static uint16_t dropped_reported; /* so the first lost edge is told at once, not in 5 s */

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(((uint16_t)p[0] << 8) | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)be16(p) << 16) | be16(p + 2);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void proto_start(void)
{
    hello_due = true;
}

static void queue_ack(uint16_t cmd_id, uint8_t result)
{
    if (ack_count < ACK_QUEUE) {
        acks[ack_count].cmd_id = cmd_id;
        acks[ack_count].result = result;
        ack_count++;
    }
    /* else: dropped; the host sends the COMMAND again and gets the remembered result */
}

static void remember(uint16_t cmd_id, uint8_t result)
{
    recent[recent_next].cmd_id = cmd_id;
    recent[recent_next].result = result;
    recent_next = (uint8_t)((recent_next + 1u) % RECENT_CMDS);
}

static void handle_command(const uint8_t *p, uint32_t now_ticks)
{
    uint16_t cmd_id = be16(p);
    for (uint8_t i = 0; i < RECENT_CMDS; i++) {
        if (recent[i].cmd_id == cmd_id && cmd_id != 0) {
            queue_ack(cmd_id, recent[i].result);
            return;
        }
    }
    struct task t = {
        .at_ticks = be32(p + 5),
        .ref = cmd_id,
        .duration_ms = be16(p + 13),
        .action = p[2],
        .channel = p[4],
        .rgb = (uint8_t)((p[9] ? 1u : 0u) | (p[10] ? 2u : 0u) | (p[11] ? 4u : 0u)),
        .pattern = p[12],
    };
    uint8_t result = device_check(t.action, t.channel);
    if (t.action == ACT_POLARITY && t.pattern > 1) {
        result = RESULT_UNSUPPORTED; /* 0 and 1 are the only levels there are */
    }
    if (result == RESULT_OK) {
        if (t.action == ACT_POLARITY) {
            device_configure(t.action, t.channel, t.pattern);
        } else if ((p[3] & CMD_FLAG_NOW) || (int32_t)(t.at_ticks - now_ticks) <= 0) {
            if (!(p[3] & CMD_FLAG_NOW)) {
                result = RESULT_LATE;
            }
            ATOMIC_BLOCK(ATOMIC_RESTORESTATE)
            {
                device_act_locked(&t);
            }
        } else if (!sched_add(&t, false)) {
            return; /* no room: no ACK, so the host's re-send brings it back */
        }
    }
    remember(cmd_id, result);
    queue_ack(cmd_id, result);
}

void proto_handle(const struct frame *f, uint32_t now_ticks)
{
    if (f->addr != 0) {
        return; /* for a device behind a hub; there is none behind this one */
    }
    switch (f->type) {
    case MSG_IDENTIFY:
        if (f->len == 0 || f->len == 2) {
            /* This firmware speaks version 1 only: it answers 1 whatever the range, and a
             * host that does not speak 1 says so (PROTOCOL.md 4.1.1). */
            hello_due = true;
        }
        break;
    case MSG_PING:
        if (f->len == 4 && pong_count < PONG_QUEUE) {
            pongs[pong_count].nonce = be32(f->payload);
            pongs[pong_count].tick = f->last_byte_ticks;
            pong_count++;
        }
        break;
    case MSG_EVENT_ACK:
        if (f->len == 2) {
            events_ack(be16(f->payload), now_ticks);
        }
        break;
    case MSG_EVENT_NAK:
        if (f->len == 2) {
            events_nak(be16(f->payload));
        }
        break;
    case MSG_COMMAND:
        if (f->len == 15) {
            handle_command(f->payload, now_ticks);
        }
        break;
    default:
        break; /* a type this version does not know: skipped */
    }
}

static bool send_hello(void)
{
    uint8_t p[19];
    p[0] = PROTO_VERSION;
    p[1] = device_desc.kind;
    put32(&p[2], ident_device_id());
    put32(&p[6], ident_boot_id());
    p[10] = FW_MAJOR;
    p[11] = FW_MINOR;
    p[12] = FW_PATCH;
    put32(&p[13], TICK_HZ);
    p[17] = device_desc.channels;
    p[18] = device_desc.caps;
    return frame_send(MSG_HELLO, p, sizeof p);
}

static bool send_status(void)
{
    uint8_t p[5 + 2 + 2];
    uint8_t n = device_beams(&p[5]);
    uint16_t errors = frame_rx_errors();
    uint16_t dropped = events_dropped();
    p[0] = 255; /* battery: mains (USB) power */
    p[1] = events_full() ? 0 : 255; /* link: 255 on a cable, 0 while events are being lost */
    p[2] = (uint8_t)(errors >> 8);
    p[3] = (uint8_t)errors;
    p[4] = n;
    p[5 + n] = (uint8_t)(dropped >> 8);
    p[6 + n] = (uint8_t)dropped;
    return frame_send(MSG_STATUS, p, (uint8_t)(7u + n));
}

void proto_poll(uint32_t now_ticks)
{
    while (pong_count > 0) {
        uint8_t p[8];
        put32(&p[0], pongs[0].nonce);
        put32(&p[4], pongs[0].tick);
        if (!frame_send(MSG_PONG, p, sizeof p)) {
            return;
        }
        pongs[0] = pongs[1];
        pong_count--;
    }
    while (ack_count > 0) {
        uint8_t p[3] = {(uint8_t)(acks[0].cmd_id >> 8), (uint8_t)acks[0].cmd_id, acks[0].result};
        if (!frame_send(MSG_COMMAND_ACK, p, sizeof p)) {
            return;
        }
        for (uint8_t i = 1; i < ack_count; i++) {
            acks[i - 1] = acks[i];
        }
        ack_count--;
    }
    if (hello_due) {
        if (!send_hello()) {
            return;
        }
        hello_due = false;
        status_due = true;
        events_resend_all();
    }
    uint16_t dropped = events_dropped();
    if (status_due || dropped != dropped_reported ||
        now_ticks - last_status_ticks >= STATUS_PERIOD_TICKS) {
        if (!send_status()) {
            return;
        }
        dropped_reported = dropped;
        status_due = false;
        last_status_ticks = now_ticks;
    }
    events_poll(now_ticks);
}
