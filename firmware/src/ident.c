/* Device identity. A Nano has no serial number of its own, so the first boot makes a 32-bit
 * id from two noise sources that differ from chip to chip and from boot to boot: a floating
 * ADC input, and the watchdog's own RC oscillator timed against the crystal. */
#include "ident.h"

#include <avr/eeprom.h>
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/wdt.h>

#define EE_ID ((uint8_t *)0)
#define EE_BOOT ((uint8_t *)4)
#define EE_POLARITY ((uint8_t *)8)
#define UNSET 0xFFFFFFFFUL

static uint32_t device_id;
static uint32_t boot_id;
static uint8_t polarity;

static volatile uint8_t wdt_sample;
static volatile uint8_t wdt_fired;

ISR(WDT_vect)
{
    wdt_sample = TCNT1L;
    wdt_fired = 1;
}

/* Bytes 0-7 hold big-endian numbers, as the README and the tests' EEPROM images write them,
 * so an id read off the chip with avrdude reads the same as on the label. */
static uint32_t read_be32(uint8_t *addr)
{
    uint32_t v = 0;
    for (uint8_t i = 0; i < 4; i++) {
        v = (v << 8) | eeprom_read_byte(addr + i);
    }
    return v;
}

static void write_be32(uint8_t *addr, uint32_t v)
{
    for (uint8_t i = 0; i < 4; i++) {
        eeprom_update_byte(addr + i, (uint8_t)(v >> (24 - 8 * i)));
    }
}

static uint32_t mix(uint32_t h, uint8_t byte)
{
    return (h ^ byte) * 16777619UL; /* FNV-1a step */
}

static uint32_t gather_noise(void)
{
    uint32_t h = 2166136261UL;
    /* ADC7 is not bonded to a pin on a Nano's header: it floats and picks up noise. */
    ADMUX = _BV(REFS0) | 7u;
    ADCSRA = _BV(ADEN) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0);
    for (uint8_t i = 0; i < 64; i++) {
        ADCSRA |= _BV(ADSC);
        while (ADCSRA & _BV(ADSC)) {
        }
        h = mix(h, ADCL);
        h = mix(h, ADCH);
        h = mix(h, TCNT1L);
    }
    ADCSRA = 0;
    /* The watchdog oscillator drifts against the crystal: its 16 ms period, read in crystal
     * ticks, jitters in the low bits. */
    for (uint8_t i = 0; i < 8; i++) {
        wdt_fired = 0;
        cli();
        WDTCSR = _BV(WDCE) | _BV(WDE);
        WDTCSR = _BV(WDIE);
        sei();
        while (!wdt_fired) {
        }
        h = mix(h, wdt_sample);
    }
    cli();
    WDTCSR = _BV(WDCE) | _BV(WDE);
    WDTCSR = 0;
    sei();
    return h;
}

void ident_init(void)
{
    device_id = read_be32(EE_ID);
    if (device_id == UNSET || device_id == 0) {
        do {
            device_id = gather_noise();
        } while (device_id == UNSET || device_id == 0);
        write_be32(EE_ID, device_id);
    }
    uint32_t boots = read_be32(EE_BOOT);
    boot_id = (boots == UNSET ? 0 : boots) + 1u;
    write_be32(EE_BOOT, boot_id);
    polarity = eeprom_read_byte(EE_POLARITY);
    if (polarity == 0xFFu) {
        polarity = 0;
    }
}

uint32_t ident_device_id(void)
{
    return device_id;
}

uint32_t ident_boot_id(void)
{
    return boot_id;
}

uint8_t ident_polarity(void)
{
    return polarity;
}

void ident_set_polarity(uint8_t bits)
{
    polarity = bits;
    eeprom_update_byte(EE_POLARITY, bits);
}
