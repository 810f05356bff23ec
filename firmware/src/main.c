/* Reference gate and light pod for protocol v1 on an ATmega328P (Arduino Nano, Uno and
 * clones). Interrupts stamp and queue; this loop does everything else. The watchdog resets
 * the chip if the loop ever stops coming round. */
#include <stdbool.h>

#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/wdt.h>

#include "device.h"
#include "frame.h"
#include "ident.h"
#include "proto.h"
#include "timer.h"
#include "uart.h"

/* After a watchdog reset the watchdog stays on with its shortest timeout; turn it off before
 * the C runtime's start-up work can trip it again. */
void wdt_off_early(void) __attribute__((naked, used, section(".init3")));
void wdt_off_early(void)
{
    MCUSR = 0;
    wdt_disable();
}

int main(void)
{
    timer_init();
    uart_init();
    sei();
    ident_init();
    device_init();
    proto_start();
    wdt_enable(WDTO_250MS);
    for (;;) {
        wdt_reset();
        uint8_t byte;
        uint16_t stamp;
        bool has = uart_take(&byte, &stamp);
        /* Read after the byte is taken, so the byte's stamp is never later than `now`. */
        uint32_t now = ticks_now();
        uint32_t byte_ticks = has ? ticks_from_recent_low(stamp, now) : 0;
        if (!has) {
            /* Every byte received so far has been read: a partial frame is idle if its last
             * byte is old by now. Its kept bytes are then parsed again below. */
            frame_idle_check(now);
        }
        struct frame f;
        while (frame_feed(has, byte, byte_ticks, &f)) {
            has = false;
            proto_handle(&f, now);
        }
        device_poll(now);
        proto_poll(now);
    }
}
