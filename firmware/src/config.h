/* Build-wide constants of the reference firmware: clock, protocol, buffer sizes.
 * One place, so the README's figures and the code cannot drift apart. */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdint.h>

#define FW_MAJOR 1
#define FW_MINOR 0
#define FW_PATCH 0

#define PROTO_VERSION 1

/* Timer1 runs at F_CPU / 8: 2 MHz, a tick is 0.5 us. */
#define TICK_HZ 2000000UL
#define TICKS_PER_MS (TICK_HZ / 1000UL)

/* Retransmit buffer: 128 events of 8 bytes, half of the ATmega328P's 2 KB of RAM. A power of
 * two so that 8-bit ring indices wrap for free; the next size up (256) would not fit beside the
 * receive and transmit rings and the stack. */
#define EV_CAP 128u

/* A partial frame whose next byte has not come within this long is dropped (PROTOCOL.md 2). */
#define RX_IDLE_TICKS (20UL * TICKS_PER_MS)

#define STATUS_PERIOD_TICKS (5000UL * TICKS_PER_MS)

/* RTO bounds and first value, PROTOCOL.md section 5. */
#define RTO_MIN_TICKS (25UL * TICKS_PER_MS)
#define RTO_MAX_TICKS (1000UL * TICKS_PER_MS)
#define RTO_FIRST_TICKS (100UL * TICKS_PER_MS)

/* Default light and beep lengths when a COMMAND says 0 (PROTOCOL.md section 6). */
#define LIGHT_DEFAULT_MS 10000u
#define BEEP_DEFAULT_MS 150u

#endif
