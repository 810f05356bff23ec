/* Who this device is, kept in EEPROM: id (bytes 0-3), boot counter (4-7), input polarity (8). */
#ifndef IDENT_H
#define IDENT_H

#include <stdint.h>

/* Reads the id (making one at first boot) and counts this boot. Before the watchdog starts:
 * a first boot spends about 130 ms gathering noise for the id. */
void ident_init(void);

uint32_t ident_device_id(void);
uint32_t ident_boot_id(void);

/* Bit i set: HIGH on input i means broken (or touched); clear: LOW does (the default). */
uint8_t ident_polarity(void);
void ident_set_polarity(uint8_t bits);

#endif
