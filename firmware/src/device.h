/* What each device kind (gate.c, pod.c) gives the protocol layer. */
#ifndef DEVICE_H
#define DEVICE_H

#include <stdint.h>

#define KIND_GATE 1u
#define KIND_POD 2u

#define CAP_LIGHT 0x01u
#define CAP_BUZZER 0x02u
#define CAP_TOUCH 0x04u
#define CAP_BEAM 0x08u

/* COMMAND_ACK results, PROTOCOL.md section 6. */
#define RESULT_OK 0u
#define RESULT_LATE 1u
#define RESULT_NO_CHANNEL 2u
#define RESULT_UNSUPPORTED 3u

struct device_desc {
    uint8_t kind;
    uint8_t channels;
    uint8_t caps;
};

extern const struct device_desc device_desc;

void device_init(void);

/* Main-loop work: the LED. */
void device_poll(uint32_t now_ticks);

/* Whether this device can carry out `action` on `channel`: RESULT_OK or why not. */
uint8_t device_check(uint8_t action, uint8_t channel);

/* Settings that act at once and are kept (action 6, polarity). */
void device_configure(uint8_t action, uint8_t channel, uint8_t value);

/* Beam readings for STATUS, percent of light received (255: not a beam); returns how many. */
uint8_t device_beams(uint8_t *out);

#endif
