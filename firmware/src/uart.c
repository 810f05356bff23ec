/* USART0, interrupt driven. The receive interrupt stamps every byte with Timer1's low 16 bits,
 * so a PONG can carry the tick at which a PING's last byte arrived however late the main loop
 * reads it (PROTOCOL.md 4.3). */
#include "uart.h"

#include <avr/interrupt.h>
#include <avr/io.h>
#include <util/atomic.h>

#define RX_SIZE 64u /* 5.5 ms of bytes at 115200: the main loop's worst pause is well under */
#define TX_SIZE 96u /* a PONG and four EVENT frames */

static volatile uint8_t rx_bytes[RX_SIZE];
static volatile uint16_t rx_stamps[RX_SIZE];
static volatile uint8_t rx_head; /* next to write, ISR only */
static volatile uint8_t rx_tail; /* next to read, main only */

static volatile uint8_t tx_buf[TX_SIZE];
static volatile uint8_t tx_head; /* next to write, main only */
static volatile uint8_t tx_tail; /* next to send, ISR only */

void uart_init(void)
{
    /* 16 MHz / (8 * (16 + 1)) = 117,647 baud, 2.1 % fast: the value every Arduino uses. */
    UCSR0A = _BV(U2X0);
    UBRR0 = 16;
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
    UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
}

ISR(USART_RX_vect)
{
    uint16_t stamp = TCNT1;
    uint8_t byte = UDR0;
    uint8_t next = (uint8_t)((rx_head + 1u) % RX_SIZE);
    if (next == rx_tail) {
        return; /* the frame it belonged to fails its CRC and is counted there */
    }
    rx_bytes[rx_head] = byte;
    rx_stamps[rx_head] = stamp;
    rx_head = next;
}

bool uart_take(uint8_t *byte, uint16_t *low_ticks)
{
    uint8_t tail = rx_tail;
    if (tail == rx_head) {
        return false;
    }
    *byte = rx_bytes[tail];
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE)
    {
        *low_ticks = rx_stamps[tail];
    }
    rx_tail = (uint8_t)((tail + 1u) % RX_SIZE);
    return true;
}

uint8_t uart_tx_room(void)
{
    uint8_t used = (uint8_t)((tx_head + TX_SIZE - tx_tail) % TX_SIZE);
    return (uint8_t)(TX_SIZE - 1u - used);
}

void uart_put(const uint8_t *data, uint8_t len)
{
    uint8_t head = tx_head;
    for (uint8_t i = 0; i < len; i++) {
        tx_buf[head] = data[i];
        head = (uint8_t)((head + 1u) % TX_SIZE);
    }
    tx_head = head;
    UCSR0B |= _BV(UDRIE0);
}

ISR(USART_UDRE_vect)
{
    uint8_t tail = tx_tail;
    if (tail == tx_head) {
        UCSR0B &= (uint8_t)~_BV(UDRIE0);
        return;
    }
    UDR0 = tx_buf[tail];
    tx_tail = (uint8_t)((tail + 1u) % TX_SIZE);
}
