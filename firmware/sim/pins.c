/* Pins: Arduino names, injected input levels (now or at an exact cycle), and the output log.
 *
 * Injected pins are driven as external inputs (AVR_IOCTL_IOPORT_SET_EXTERNAL), not merely by
 * raising the pin IRQ: simavr 1.6 re-raises an input pin that has its pull-up enabled to HIGH
 * on every write to its PORTx register, so a beam held LOW would "restore" itself the next time
 * the firmware touched any bit of that port. The external value is what simavr raises instead.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "avr_ioport.h"
#include "harness.h"

static const char port_letters[HARNESS_PORTS] = { 'B', 'C', 'D' };

typedef struct scheduled_t {
	uint64_t cycle;      /* harness cycle requested; equal cycles apply in command order */
	pin_ref_t pin;
	int level;
} scheduled_t;

static struct {
	avr_ioport_t *port[HARNESS_PORTS];
	avr_irq_t *irq[HARNESS_PORTS][8];
	uint8_t ext_mask[HARNESS_PORTS], ext_value[HARNESS_PORTS];
	int out_level[HARNESS_PORTS][8];   /* last level logged for a pin driven as an output */
	int param[HARNESS_PORTS][8];       /* notify parameter: port * 8 + bit */
	scheduled_t sched[HARNESS_MAX_SCHEDULED];
	size_t sched_len;
} g_pins;

int pins_parse(const char *name, pin_ref_t *pin)
{
	char *end = NULL;
	if ((name[0] == 'D' || name[0] == 'd') && isdigit((unsigned char)name[1])) {
		long n = strtol(name + 1, &end, 10);
		if (*end || n < 0 || n > 13)
			return -1;
		pin->port = n < 8 ? 2 : 0;
		pin->bit = n < 8 ? (int)n : (int)n - 8;
		return 0;
	}
	if ((name[0] == 'A' || name[0] == 'a') && isdigit((unsigned char)name[1])) {
		long n = strtol(name + 1, &end, 10);
		if (*end || n < 0 || n > 5)
			return -1;
		pin->port = 1;
		pin->bit = (int)n;
		return 0;
	}
	/* chip names, for the pins an Arduino board does not name (PB6, PB7, PC6) */
	if ((name[0] == 'P' || name[0] == 'p') && name[1] && name[2] >= '0' && name[2] <= '7' &&
	    !name[3]) {
		for (int p = 0; p < HARNESS_PORTS; p++)
			if (toupper((unsigned char)name[1]) == port_letters[p]) {
				pin->port = p;
				pin->bit = name[2] - '0';
				return 0;
			}
	}
	return -1;
}

const char *pins_name(pin_ref_t pin, char *buf, size_t len)
{
	if (pin.port == 2)
		snprintf(buf, len, "D%d", pin.bit);
	else if (pin.port == 0 && pin.bit <= 5)
		snprintf(buf, len, "D%d", pin.bit + 8);
	else if (pin.port == 1 && pin.bit <= 5)
		snprintf(buf, len, "A%d", pin.bit);
	else
		snprintf(buf, len, "P%c%d", port_letters[pin.port], pin.bit);
	return buf;
}

static avr_ioport_t *find_port(avr_t *avr, char letter)
{
	for (avr_io_t *io = avr->io_port; io; io = io->next)
		if (io->kind && strcmp(io->kind, "port") == 0 && ((avr_ioport_t *)io)->name == letter)
			return (avr_ioport_t *)io;
	return NULL;
}

/* A pin changed level: log it if the firmware drives it as an output. */
static void on_pin(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	harness_t *h = &g_harness;
	if (h->injecting)
		return;
	int idx = *(int *)param;
	pin_ref_t pin = { .port = idx / 8, .bit = idx % 8 };
	avr_ioport_t *port = g_pins.port[pin.port];
	if (!(h->avr->data[port->r_ddr] & (1u << pin.bit)))
		return;
	/* the timer's compare-output path adds AVR_IOPORT_OUTPUT to the value */
	int level = (value & 0xff) != 0;
	if (level == g_pins.out_level[pin.port][pin.bit])
		return;
	g_pins.out_level[pin.port][pin.bit] = level;
	char name[8];
	harness_emit(h, "out %s %d %llu", pins_name(pin, name, sizeof name), level,
	             (unsigned long long)harness_cycle(h));
}

void pins_attach(harness_t *h)
{
	for (int p = 0; p < HARNESS_PORTS; p++) {
		g_pins.port[p] = find_port(h->avr, port_letters[p]);
		if (!g_pins.port[p]) {
			fprintf(stderr, "simavr-harness: this core has no PORT%c\n", port_letters[p]);
			exit(2);
		}
		for (int b = 0; b < 8; b++) {
			g_pins.param[p][b] = p * 8 + b;
			g_pins.irq[p][b] = avr_io_getirq(h->avr, AVR_IOCTL_IOPORT_GETIRQ(port_letters[p]), b);
			avr_irq_register_notify(g_pins.irq[p][b], on_pin, &g_pins.param[p][b]);
		}
	}
}

void pins_apply(harness_t *h, pin_ref_t pin, int level)
{
	uint8_t bit = (uint8_t)(1u << pin.bit);
	g_pins.ext_mask[pin.port] |= bit;
	g_pins.ext_value[pin.port] = (uint8_t)((g_pins.ext_value[pin.port] & ~bit) | (level ? bit : 0));
	avr_ioport_external_t ext = {
		.name = (unsigned long)port_letters[pin.port],
		.mask = g_pins.ext_mask[pin.port],
		.value = g_pins.ext_value[pin.port],
	};
	avr_ioctl(h->avr, AVR_IOCTL_IOPORT_SET_EXTERNAL(port_letters[pin.port]), &ext);
	h->injecting = 1;
	/* the port, INT0, pin-change and input-capture logic all listen on this IRQ */
	avr_raise_irq(g_pins.irq[pin.port][pin.bit], (uint32_t)level);
	h->injecting = 0;
}

static avr_cycle_count_t sched_timer(avr_t *avr, avr_cycle_count_t when, void *param)
{
	(void)avr;
	(void)when;
	harness_t *h = param;
	uint64_t now = harness_cycle(h);
	while (g_pins.sched_len > 0 && g_pins.sched[0].cycle <= now) {
		scheduled_t s = g_pins.sched[0];
		memmove(&g_pins.sched[0], &g_pins.sched[1], (g_pins.sched_len - 1) * sizeof s);
		g_pins.sched_len--;
		pins_apply(h, s.pin, s.level);
		char name[8];
		harness_emit(h, "in %s %d %llu at %llu", pins_name(s.pin, name, sizeof name), s.level,
		             (unsigned long long)now, (unsigned long long)s.cycle);
	}
	return g_pins.sched_len ? (avr_cycle_count_t)(g_pins.sched[0].cycle - h->cycle_base) : 0;
}

static void arm_sched_timer(harness_t *h)
{
	if (g_pins.sched_len == 0)
		return;
	uint64_t now = harness_cycle(h);
	uint64_t due = g_pins.sched[0].cycle;
	avr_cycle_timer_register(h->avr, due > now ? due - now : 1, sched_timer, h);
}

int pins_schedule(harness_t *h, pin_ref_t pin, int level, uint64_t cycle)
{
	if (g_pins.sched_len == HARNESS_MAX_SCHEDULED)
		return -1;
	size_t i = g_pins.sched_len;
	while (i > 0 && g_pins.sched[i - 1].cycle > cycle) {
		g_pins.sched[i] = g_pins.sched[i - 1];
		i--;
	}
	g_pins.sched[i] = (scheduled_t){
		.cycle = cycle, .pin = pin, .level = level,
	};
	g_pins.sched_len++;
	if (i == 0)
		arm_sched_timer(h);
	return 0;
}

void pins_after_reset(harness_t *h)
{
	/* simavr's reset zeroes PINx without asking the pins, and its pin IRQs only notify on a
	 * change, so a pin held HIGH (pull-up or injected) would read LOW until it next toggled.
	 * On the chip PINx always shows the level on the pin. */
	for (int p = 0; p < HARNESS_PORTS; p++) {
		uint8_t v = 0;
		for (int b = 0; b < 8; b++)
			if (g_pins.irq[p][b]->value & 0xff)
				v |= (uint8_t)(1u << b);
		h->avr->data[g_pins.port[p]->r_pin] = v;
	}
	arm_sched_timer(h);
}
