/* USART0 <-> pseudo-terminal, byte for byte, at the wire's pace.
 *
 * Why not simavr's parts/uart_pty: Debian ships no header for it, it runs its own thread that
 * polls the pty every few hundred microseconds, and it hands bytes to the host the moment the
 * firmware writes UDR0. Here every byte reaches the pty when its stop bit would have left the
 * pin (one frame time after the shift register took it), with the harness paced to the wall
 * clock at that instant, so the host sees the firmware's bytes when a USB adapter would.
 *
 * Two simavr 1.6 UART timing quirks are corrected from the chip's registers at every byte and
 * every pacing point: it counts a parity bit even when parity is off (11 bit times per 8N1
 * byte instead of 10), and it computes the rate only when UBRR0L is written, so setting U2X0
 * after UBRR0 leaves it at half speed.
 *
 * The slave end stays open in the harness: bytes the firmware sends before the host opens the
 * port (its HELLO at power-up) wait in the tty buffer as they would in a USB adapter, and the
 * host closing the port is not a hang-up for us. When that buffer is full, bytes are dropped and
 * counted. Both ends are raw: 0x00, 0x0A, 0x0D, 0x11, 0x13, 0x7E and 0xFF pass unchanged.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "avr_uart.h"
#include "harness.h"

#define RX_BUF_SIZE 4096
#define TX_QUEUE_SIZE 4096

/* ATmega328P UCSR0C parity mode bits (UPM01:UPM00); simavr's uart struct has no regbit. */
#define UPM_SHIFT 4
#define UPM_MASK 0x3

typedef struct tx_byte_t {
	uint64_t due_cycle;   /* harness cycle at which the stop bit ends */
	uint8_t value;
} tx_byte_t;

static struct {
	int master_fd;
	int slave_fd;
	avr_uart_t *uart;
	avr_irq_t *irq_input;
	int xoff;             /* simavr's receive FIFO is full: hold bytes back */

	uint8_t rx_buf[RX_BUF_SIZE];
	size_t rx_head, rx_len;

	tx_byte_t tx[TX_QUEUE_SIZE];
	size_t tx_head, tx_len;
	uint64_t tx_last_due;
} g_bridge = { .master_fd = -1, .slave_fd = -1 };

static int make_raw(int fd)
{
	struct termios tio;
	if (tcgetattr(fd, &tio) != 0)
		return -1;
	cfmakeraw(&tio);
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	return tcsetattr(fd, TCSANOW, &tio);
}

int bridge_open(harness_t *h, char *path, size_t path_len)
{
	(void)h;
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0)
		return -1;
	if (ptsname_r(master, path, path_len) != 0)
		return -1;
	int slave = open(path, O_RDWR | O_NOCTTY);
	if (slave < 0)
		return -1;
	/* raw on both ends: Linux runs a line discipline on the master side as well */
	if (make_raw(slave) != 0 || make_raw(master) != 0)
		return -1;
	int flags = fcntl(master, F_GETFL);
	if (flags < 0 || fcntl(master, F_SETFL, flags | O_NONBLOCK) != 0)
		return -1;
	g_bridge.master_fd = master;
	g_bridge.slave_fd = slave;
	return 0;
}

static avr_uart_t *find_uart0(avr_t *avr)
{
	for (avr_io_t *io = avr->io_port; io; io = io->next)
		if (io->kind && strcmp(io->kind, "uart") == 0 && ((avr_uart_t *)io)->name == '0')
			return (avr_uart_t *)io;
	return NULL;
}

/* Cycles one character takes on the wire as the chip's registers configure it right now. */
static avr_cycle_count_t true_cycles_per_byte(avr_t *avr, avr_uart_t *u)
{
	uint32_t ubrr = avr_regbit_get(avr, u->ubrrl) | ((uint32_t)avr_regbit_get(avr, u->ubrrh) << 8);
	uint32_t cycles_per_bit = (ubrr + 1) * (avr_regbit_get(avr, u->u2x) ? 8u : 16u);
	static const int data_bits[8] = { 5, 6, 7, 8, 8, 8, 8, 9 };
	int db = data_bits[(avr_regbit_get(avr, u->ucsz) | (avr_regbit_get(avr, u->ucsz2) << 2)) & 7];
	int parity = ((avr->data[u->r_ucsrc] >> UPM_SHIFT) & UPM_MASK) != 0;
	int stop = 1 + avr_regbit_get(avr, u->usbs);
	return (avr_cycle_count_t)cycles_per_bit * (avr_cycle_count_t)(1 + db + parity + stop);
}

static avr_cycle_count_t sync_baud(void)
{
	harness_t *h = &g_harness;
	avr_cycle_count_t cpb = true_cycles_per_byte(h->avr, g_bridge.uart);
	g_bridge.uart->cycles_per_byte = cpb;
	return cpb;
}

static void feed_uart(void)
{
	while (g_bridge.rx_len > 0 && !g_bridge.xoff) {
		uint8_t b = g_bridge.rx_buf[g_bridge.rx_head];
		g_bridge.rx_head = (g_bridge.rx_head + 1) % RX_BUF_SIZE;
		g_bridge.rx_len--;
		g_harness.rx_bytes++;
		avr_raise_irq(g_bridge.irq_input, b);
	}
}

static void on_xon(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)value;
	(void)param;
	g_bridge.xoff = 0;
	feed_uart();
}

static void on_xoff(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	(void)param;
	g_bridge.xoff = value != 0;
}

static void write_to_pty(const uint8_t *data, size_t len)
{
	harness_t *h = &g_harness;
	while (len > 0) {
		ssize_t n = write(g_bridge.master_fd, data, len);
		if (n > 0) {
			h->tx_bytes += (uint64_t)n;
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/* tty buffer full (nobody reading for a long time): the bytes are lost, as on a
		 * USB adapter whose host stopped reading */
		h->tx_dropped += len;
		return;
	}
}

/* Release every byte whose stop bit has ended; returns the next due harness cycle or 0. */
static uint64_t deliver_due(uint64_t now)
{
	uint8_t chunk[TX_QUEUE_SIZE];
	size_t n = 0;
	while (g_bridge.tx_len > 0 && g_bridge.tx[g_bridge.tx_head].due_cycle <= now) {
		chunk[n++] = g_bridge.tx[g_bridge.tx_head].value;
		g_bridge.tx_head = (g_bridge.tx_head + 1) % TX_QUEUE_SIZE;
		g_bridge.tx_len--;
	}
	if (n > 0)
		write_to_pty(chunk, n);
	return g_bridge.tx_len > 0 ? g_bridge.tx[g_bridge.tx_head].due_cycle : 0;
}

static avr_cycle_count_t tx_timer(avr_t *avr, avr_cycle_count_t when, void *param)
{
	(void)avr;
	(void)when;
	harness_t *h = param;
	uint64_t now = harness_cycle(h);
	/* the host must not see the byte before the wall clock reaches its stop bit */
	pace_to(h, now, 1);
	uint64_t next = deliver_due(now);
	return next ? (avr_cycle_count_t)(next - h->cycle_base) : 0;
}

static void arm_tx_timer(harness_t *h)
{
	if (g_bridge.tx_len == 0)
		return;
	uint64_t now = harness_cycle(h);
	uint64_t due = g_bridge.tx[g_bridge.tx_head].due_cycle;
	avr_cycle_timer_register(h->avr, due > now ? due - now : 1, tx_timer, h);
}

static void on_output(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	harness_t *h = param;
	/* runs inside the UDR0 write, before simavr arms its transmit timer from the same field */
	avr_cycle_count_t cpb = sync_baud();
	if (g_bridge.tx_len == TX_QUEUE_SIZE) {
		h->tx_dropped++;
		return;
	}
	uint64_t now = harness_cycle(h);
	/* a byte written while the shift register is busy starts when the previous one ends */
	uint64_t start = now > g_bridge.tx_last_due ? now : g_bridge.tx_last_due;
	uint64_t due = start + cpb;
	g_bridge.tx_last_due = due;
	size_t tail = (g_bridge.tx_head + g_bridge.tx_len) % TX_QUEUE_SIZE;
	g_bridge.tx[tail].due_cycle = due;
	g_bridge.tx[tail].value = (uint8_t)value;
	g_bridge.tx_len++;
	if (g_bridge.tx_len == 1)
		arm_tx_timer(h);
}

void bridge_attach(harness_t *h)
{
	avr_t *avr = h->avr;
	g_bridge.uart = find_uart0(avr);
	if (!g_bridge.uart) {
		fprintf(stderr, "simavr-harness: this core has no USART0\n");
		exit(2);
	}
	/* no console echo of the firmware's bytes, and no usleep() when it polls UCSR0A: both
	 * would disturb the protocol stream and the pacing */
	uint32_t flags = 0;
	avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);

	g_bridge.irq_input = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT),
	                        on_output, h);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON),
	                        on_xon, h);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF),
	                        on_xoff, h);
}

int bridge_fd(void)
{
	return g_bridge.master_fd;
}

/* Every pacing point: fix the rate, take what the host wrote (when poll() said there is some),
 * feed what the UART has room for. */
void bridge_tick(harness_t *h, int readable)
{
	(void)h;
	sync_baud();
	size_t room = RX_BUF_SIZE - g_bridge.rx_len;
	if (readable && room > 0) {
		uint8_t tmp[RX_BUF_SIZE];
		ssize_t n = read(g_bridge.master_fd, tmp, room);
		for (ssize_t i = 0; i < n; i++) {
			size_t tail = (g_bridge.rx_head + g_bridge.rx_len) % RX_BUF_SIZE;
			g_bridge.rx_buf[tail] = tmp[i];
			g_bridge.rx_len++;
		}
	}
	feed_uart();
}

void bridge_after_reset(harness_t *h)
{
	/* simavr's reset empties its timer table: bytes already on the wire still arrive */
	g_bridge.xoff = 0;
	arm_tx_timer(h);
}

void bridge_flush_all(harness_t *h)
{
	(void)h;
	deliver_due(UINT64_MAX);
}
