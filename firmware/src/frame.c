/* Protocol v1 framing. The receiver follows PROTOCOL.md section 2 step by step: find a SYNC,
 * read LEN, wait for the whole frame, and on a bad CRC or an idle gap give up only the SYNC
 * byte, since the real frame start may be among the bytes already read. Those bytes go to a
 * small replay queue and are parsed again before anything new. */
#include "frame.h"

#include <string.h>

#include "config.h"
#include "uart.h"

static uint16_t tx_seq;

/* Receiver state. */
static uint8_t kept[FRAME_KEEP]; /* the frame so far, from its SYNC, up to FRAME_KEEP bytes */
static uint16_t have;            /* bytes of the current frame seen, SYNC included */
static uint16_t streamed_crc;    /* running CRC over LEN .. end of payload */
static uint8_t crc_high;         /* the received CRC's first byte */
static uint32_t last_byte_ticks;
static uint8_t replay[FRAME_KEEP + 1u];
static uint8_t replay_len;
static uint8_t replay_pos;
static uint16_t rx_errors;

uint16_t crc16_update(uint16_t crc, uint8_t byte)
{
    crc ^= (uint16_t)byte << 8;
    for (uint8_t i = 0; i < 8; i++) {
        crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
    }
    return crc;
}

bool frame_send(uint8_t type, const uint8_t *payload, uint8_t len)
{
    uint8_t out[FRAME_OVERHEAD + 20];
    if (len > sizeof out - FRAME_OVERHEAD || uart_tx_room() < FRAME_OVERHEAD + len) {
        return false;
    }
    out[0] = FRAME_SYNC;
    out[1] = len;
    out[2] = 0; /* address: this device is the one at the end of the cable */
    out[3] = (uint8_t)(tx_seq >> 8);
    out[4] = (uint8_t)tx_seq;
    out[5] = type;
    memcpy(&out[6], payload, len);
    uint16_t crc = 0xFFFFu;
    for (uint8_t i = 1; i < 6u + len; i++) {
        crc = crc16_update(crc, out[i]);
    }
    out[6 + len] = (uint8_t)(crc >> 8);
    out[7 + len] = (uint8_t)crc;
    uart_put(out, (uint8_t)(FRAME_OVERHEAD + len));
    tx_seq++;
    return true;
}

/* Gives up the current frame's SYNC: its other kept bytes are parsed again. */
static void drop_sync(void)
{
    uint8_t keep = (uint8_t)(have < FRAME_KEEP ? have : FRAME_KEEP);
    uint8_t pending = (uint8_t)(replay_len - replay_pos);
    uint8_t n = (uint8_t)(keep - 1u);
    /* Kept bytes came out of the replay queue or after it, so together they fit. */
    memmove(&replay[n], &replay[replay_pos], pending);
    memcpy(replay, &kept[1], n);
    replay_len = (uint8_t)(n + pending);
    replay_pos = 0;
    have = 0;
}

static bool step(uint8_t byte, uint32_t byte_ticks, struct frame *out)
{
    if (have == 0) {
        if (byte == FRAME_SYNC) {
            kept[0] = byte;
            have = 1;
            streamed_crc = 0xFFFFu;
            last_byte_ticks = byte_ticks;
        }
        return false;
    }
    if (have < FRAME_KEEP) {
        kept[have] = byte;
    }
    have++;
    last_byte_ticks = byte_ticks;
    uint8_t len = kept[1];
    if (have == 2 && len > FRAME_MAX_PAYLOAD) {
        drop_sync();
        return false;
    }
    uint16_t total = FRAME_OVERHEAD + len;
    if (have <= total - 2u) {
        streamed_crc = crc16_update(streamed_crc, byte);
    } else if (have == total - 1u) {
        crc_high = byte;
    }
    if (have < total) {
        return false;
    }
    if ((uint16_t)(((uint16_t)crc_high << 8) | byte) != streamed_crc) {
        rx_errors++;
        drop_sync();
        return false;
    }
    have = 0;
    if (total > FRAME_KEEP) {
        return false; /* no message of ours is this long: a later version's, skipped */
    }
    out->len = len;
    out->addr = kept[2];
    out->seq = (uint16_t)(((uint16_t)kept[3] << 8) | kept[4]);
    out->type = kept[5];
    out->last_byte_ticks = byte_ticks;
    memcpy(out->payload, &kept[6], len);
    return true;
}

bool frame_feed(bool has_byte, uint8_t byte, uint32_t byte_ticks, struct frame *out)
{
    while (replay_pos < replay_len) {
        uint8_t b = replay[replay_pos++];
        if (step(b, last_byte_ticks, out)) {
            if (has_byte) {
                /* Keep the new byte for the next call: queue it behind the replay. */
                replay[replay_len++] = byte;
            }
            return true;
        }
    }
    replay_len = replay_pos = 0;
    if (!has_byte) {
        return false;
    }
    if (have != 0 && byte_ticks - last_byte_ticks > RX_IDLE_TICKS) {
        drop_sync();
        replay[replay_len++] = byte;
        return frame_feed(false, 0, byte_ticks, out);
    }
    return step(byte, byte_ticks, out);
}

void frame_idle_check(uint32_t now_ticks)
{
    if (have != 0 && now_ticks - last_byte_ticks > RX_IDLE_TICKS) {
        drop_sync();
    }
}

uint16_t frame_rx_errors(void)
{
    return rx_errors;
}
