/* USART0 at 115200 8N1 (U2X): interrupt-driven rings both ways, each received byte stamped. */
#ifndef UART_H
#define UART_H

#include <stdbool.h>
#include <stdint.h>

void uart_init(void);

/* Takes the oldest received byte and the low 16 bits of the tick at which it arrived. */
bool uart_take(uint8_t *byte, uint16_t *low_ticks);

/* Bytes that fit in the transmit ring right now. */
uint8_t uart_tx_room(void);

/* Queues bytes; the caller checked uart_tx_room() so a frame is never split. */
void uart_put(const uint8_t *data, uint8_t len);

#endif
