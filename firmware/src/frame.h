/* Framing of protocol v1 (PROTOCOL.md section 2): CRC-16/CCITT-FALSE, sending, and a receiver
 * that resynchronises past noise and drops a partial frame after an idle gap. */
#ifndef FRAME_H
#define FRAME_H

#include <stdbool.h>
#include <stdint.h>

#define FRAME_SYNC 0x7Eu
#define FRAME_MAX_PAYLOAD 200u
#define FRAME_OVERHEAD 8u
/* The longest host frame this device understands is a COMMAND (15 bytes of payload). Longer
 * frames are checked as they stream past but not kept, so their bytes cannot be rescanned. */
#define FRAME_KEEP 24u

struct frame {
    uint8_t addr;
    uint8_t type;
    uint8_t len;
    uint16_t seq;
    uint32_t last_byte_ticks; /* when the frame's last byte arrived */
    uint8_t payload[FRAME_KEEP - FRAME_OVERHEAD];
};

uint16_t crc16_update(uint16_t crc, uint8_t byte);

/* Sends one frame from this device (address 0) if the transmit ring has room for all of it. */
bool frame_send(uint8_t type, const uint8_t *payload, uint8_t len);

/* Feeds one received byte; returns true and fills *out when it completes a frame whose CRC
 * passes. Call again with has_byte false until it returns false, to drain rescanned bytes. */
bool frame_feed(bool has_byte, uint8_t byte, uint32_t byte_ticks, struct frame *out);

/* Drops a partial frame whose last byte is older than the idle limit. */
void frame_idle_check(uint32_t now_ticks);

/* Frames dropped for a bad CRC since power-up (STATUS rx_errors). */
uint16_t frame_rx_errors(void);

#endif
