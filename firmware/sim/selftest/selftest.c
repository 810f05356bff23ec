/* Harness selftest firmware: exercises every harness feature with known, checkable behaviour.
 *
 * - boot: boot counter (EEPROM bytes 4-7, big-endian) +1, then a banner on USART0:
 *   'S' 'T' id[4] boot[4] (the counter after the increment).
 * - USART0 115200 8N1, U2X set after UBRR0 = 16: every received byte is echoed unchanged, and
 *   D10 (PB2) toggles in the receive interrupt (one frame, 1360 cycles, apart at full rate).
 * - D9 (PB1) toggles every 2000 Timer1 ticks (prescaler 8: every 16000 cycles, 1 ms).
 * - D13 (PB5) mirrors D8 (PB0), D11 (PB3) mirrors D2 (PD2); both inputs have pull-ups and the
 *   main loop rewrites PORTB and PORTD on every pass (what the harness's pull-up fix is about).
 * - ICP1 (D8 falling edge) sends 0xC1, ICR1 high, ICR1 low; INT0 (D2 falling edge) sends
 *   0xD2 and TCNT1 as read first thing in its interrupt.
 * - D12 (PB4) LOW: enable the watchdog (16 ms) and hang; after a watchdog reset D12 must go
 *   HIGH once before it counts again.
 * - D7 (PD7) LOW: cli + sleep, which simavr ends as a "done" (stopped) core.
 * - D6 (PD6) LOW: with interrupts off, send 0xF0 and wait for ICF1 (a D8 falling edge) and
 *   TOV1 (the next counter wrap, 32.8 ms at most), then write TIFR1 = _BV(OCF1A) and send 0xF1
 *   and TIFR1 & (ICF1 | TOV1): on the chip both flags stay set (0x21), so the capture
 *   interrupt runs once interrupts are back on and the usual 0xC1 report follows. D6 must go
 *   HIGH once before it counts again.
 */
#include <avr/eeprom.h>
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include <avr/wdt.h>
#include <stdint.h>

#define RING_SIZE 128u
#define TOGGLE_TICKS 2000u
#define FLAG_WAIT_SPINS 4000000UL /* about 2 s: the test never sends the edge, carry on */

static volatile uint8_t ring[RING_SIZE];
static volatile uint8_t ring_head, ring_tail;
static volatile uint16_t captured;
static volatile uint8_t capture_pending;
static volatile uint16_t int0_stamp;
static volatile uint8_t int0_pending;

ISR(USART_RX_vect)
{
	uint8_t b = UDR0;
	PORTB ^= _BV(PB2);
	uint8_t next = (uint8_t)((ring_head + 1u) % RING_SIZE);
	if (next != ring_tail) {
		ring[ring_head] = b;
		ring_head = next;
	}
}

ISR(TIMER1_COMPA_vect)
{
	OCR1A += TOGGLE_TICKS;
	PORTB ^= _BV(PB1);
}

ISR(TIMER1_CAPT_vect)
{
	captured = ICR1;
	capture_pending = 1;
}

ISR(INT0_vect)
{
	int0_stamp = TCNT1;
	int0_pending = 1;
}

static void put(uint8_t b)
{
	while (!(UCSR0A & _BV(UDRE0))) {
	}
	UDR0 = b;
}

static void report(uint8_t tag, volatile uint16_t *value, volatile uint8_t *pending)
{
	cli();
	uint16_t v = *value;
	*pending = 0;
	sei();
	put(tag);
	put((uint8_t)(v >> 8));
	put((uint8_t)v);
}

/* Writing a one to one timer flag must clear that flag alone (simavr 1.6 clears them all). */
static void flag_check(void)
{
	cli();
	put(0xF0);
	const uint8_t waited = _BV(ICF1) | _BV(TOV1);
	TIFR1 = _BV(TOV1);
	for (uint32_t spins = 0; (TIFR1 & waited) != waited && spins < FLAG_WAIT_SPINS; spins++) {
	}
	TIFR1 = _BV(OCF1A);
	uint8_t kept = TIFR1 & waited;
	sei();
	put(0xF1);
	put(kept);
}

static uint32_t boot_count(void)
{
	uint32_t n = 0;
	for (uint8_t i = 4; i < 8; i++)
		n = (n << 8) | eeprom_read_byte((const uint8_t *)(uint16_t)i);
	n++;
	for (uint8_t i = 0; i < 4; i++)
		eeprom_update_byte((uint8_t *)(uint16_t)(7 - i), (uint8_t)(n >> (8 * i)));
	return n;
}

int main(void)
{
	uint8_t reset_by_watchdog = MCUSR & _BV(WDRF);
	MCUSR = 0;
	wdt_disable();

	uint32_t boots = boot_count();

	UBRR0 = 16;
	UCSR0A = _BV(U2X0);
	UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
	UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);

	DDRB = _BV(PB1) | _BV(PB2) | _BV(PB3) | _BV(PB5);
	PORTB = _BV(PB0) | _BV(PB4);
	DDRD = 0;
	PORTD = _BV(PD2) | _BV(PD6) | _BV(PD7);

	TCCR1A = 0;
	TCCR1B = _BV(CS11);  /* prescaler 8, input capture on the falling edge */
	OCR1A = TOGGLE_TICKS;
	TIFR1 = 0xFF;
	TIMSK1 = _BV(OCIE1A) | _BV(ICIE1);
	EICRA = _BV(ISC01);  /* INT0 on the falling edge */
	EIFR = _BV(INTF0);
	EIMSK = _BV(INT0);
	sei();

	put('S');
	put('T');
	for (uint8_t i = 0; i < 4; i++)
		put(eeprom_read_byte((const uint8_t *)(uint16_t)i));
	for (int8_t i = 3; i >= 0; i--)
		put((uint8_t)(boots >> (8 * i)));

	uint8_t hang_armed = !reset_by_watchdog;
	uint8_t flag_check_armed = 0;
	for (;;) {
		uint8_t pinb = PINB, pind = PIND;
		uint8_t mirror = 0;
		if (pinb & _BV(PB0))
			mirror |= _BV(PB5);
		if (pind & _BV(PD2))
			mirror |= _BV(PB3);
		cli();  /* the interrupts toggle PB1 and PB2 in the same register */
		PORTB = (uint8_t)((PORTB & (_BV(PB1) | _BV(PB2))) | mirror | _BV(PB0) | _BV(PB4));
		sei();
		PORTD = _BV(PD2) | _BV(PD6) | _BV(PD7);

		if (ring_tail != ring_head) {
			uint8_t b = ring[ring_tail];
			ring_tail = (uint8_t)((ring_tail + 1u) % RING_SIZE);
			put(b);
		}
		if (capture_pending)
			report(0xC1, &captured, &capture_pending);
		if (int0_pending)
			report(0xD2, &int0_stamp, &int0_pending);
		if (pinb & _BV(PB4)) {
			hang_armed = 1;
		} else if (hang_armed) {
			wdt_enable(WDTO_15MS);
			for (;;) {
			}
		}
		if (pind & _BV(PD6)) {
			flag_check_armed = 1;
		} else if (flag_check_armed) {
			flag_check_armed = 0;
			flag_check();
		}
		if (!(pind & _BV(PD7))) {
			cli();
			set_sleep_mode(SLEEP_MODE_PWR_DOWN);
			sleep_enable();
			sleep_cpu();
		}
	}
}
