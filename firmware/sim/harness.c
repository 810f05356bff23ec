/* simavr-harness: runs an ATmega328P firmware ELF as a test fixture for the host's tests.
 *
 * It loads, paces to the wall clock, bridges USART0 to a pty, injects pin levels and logs
 * output pins, and nothing else: every protocol behaviour belongs to the firmware under test.
 * The stdin/stdout line protocol is described in README.md next to this file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "avr_eeprom.h"
#include "harness.h"
#include "sim_elf.h"

#define EXIT_USAGE 2
#define EXIT_CRASHED 3
/* simavr 1.6's EEPROM ioctls return -1 (as for "not mine") when they succeed, -2 on a bad
 * argument: only -2 means failure. */
#define EEPROM_IOCTL_FAILED (-2)

harness_t g_harness;
volatile sig_atomic_t g_stop_signal;

static const char *g_eeprom_path;
static int g_verbose;
static int g_started;
static void (*g_core_reset)(avr_t *avr);

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: simavr-harness [--eeprom FILE] [--mmcu atmega328p] [--freq 16000000]\n"
	        "                      [--wait-start] [--verbose] FIRMWARE.elf\n"
	        "Prints 'pty /dev/pts/N', then reads commands on stdin (see firmware/sim/README.md).\n");
}

void harness_emit(harness_t *h, const char *fmt, ...)
{
	if (!h->out)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(h->out, fmt, ap);
	va_end(ap);
	fputc('\n', h->out);
	if (fflush(h->out) != 0) {
		/* whoever reads us is gone: stop, saving the EEPROM on the way out */
		h->out = NULL;
		h->quit = 1;
	}
}

/* simavr logs to stdout by default, which is our protocol stream: keep it on stderr. */
static void stderr_logger(avr_t *avr, const int level, const char *format, va_list ap)
{
	(void)avr;
	if (level > (g_verbose ? LOG_TRACE : LOG_ERROR))
		return;
	fputs("simavr: ", stderr);
	vfprintf(stderr, format, ap);
}

static int eeprom_size(avr_t *avr)
{
	return (int)avr->e2end + 1;
}

static int eeprom_load(avr_t *avr, const char *path)
{
	int size = eeprom_size(avr);
	uint8_t *buf = malloc((size_t)size + 1);
	if (!buf)
		return -1;
	memset(buf, 0xFF, (size_t)size + 1);  /* a missing file is an erased EEPROM */
	FILE *f = fopen(path, "rb");
	if (f) {
		size_t n = fread(buf, 1, (size_t)size + 1, f);
		fclose(f);
		if (n > (size_t)size) {
			fprintf(stderr, "simavr-harness: %s is larger than the %d-byte EEPROM\n", path, size);
			free(buf);
			return -1;
		}
		if (n < (size_t)size)
			memset(buf + n, 0xFF, (size_t)size - n);
	} else if (errno != ENOENT) {
		fprintf(stderr, "simavr-harness: cannot read %s: %s\n", path, strerror(errno));
		free(buf);
		return -1;
	}
	avr_eeprom_desc_t desc = { .ee = buf, .offset = 0, .size = (uint32_t)size };
	int rc = avr_ioctl(avr, AVR_IOCTL_EEPROM_SET, &desc);
	free(buf);
	return rc == EEPROM_IOCTL_FAILED ? -1 : 0;
}

static int eeprom_save(avr_t *avr, const char *path)
{
	int size = eeprom_size(avr);
	uint8_t *buf = malloc((size_t)size);
	if (!buf)
		return -1;
	avr_eeprom_desc_t desc = { .ee = buf, .offset = 0, .size = (uint32_t)size };
	if (avr_ioctl(avr, AVR_IOCTL_EEPROM_GET, &desc) == EEPROM_IOCTL_FAILED) {
		free(buf);
		return -1;
	}
	/* write beside and rename, so a kill mid-write never leaves half an image */
	size_t tmp_len = strlen(path) + 8;
	char *tmp = malloc(tmp_len);
	if (!tmp) {
		free(buf);
		return -1;
	}
	snprintf(tmp, tmp_len, "%s.tmp", path);
	int rc = -1;
	FILE *f = fopen(tmp, "wb");
	if (f) {
		size_t n = fwrite(buf, 1, (size_t)size, f);
		if (fclose(f) == 0 && n == (size_t)size && rename(tmp, path) == 0)
			rc = 0;
	}
	if (rc != 0)
		fprintf(stderr, "simavr-harness: cannot write %s: %s\n", path, strerror(errno));
	free(tmp);
	free(buf);
	return rc;
}

static void cmd_pin(harness_t *h, char **tok, int ntok)
{
	pin_ref_t pin;
	if (ntok != 3 && !(ntok == 5 && strcmp(tok[3], "at") == 0)) {
		harness_emit(h, "error usage: pin NAME 0|1 [at CYCLE]");
		return;
	}
	if (pins_parse(tok[1], &pin) != 0) {
		harness_emit(h, "error unknown pin '%s' (D0..D13, A0..A5, PB0..PD7)", tok[1]);
		return;
	}
	if (strcmp(tok[2], "0") != 0 && strcmp(tok[2], "1") != 0) {
		harness_emit(h, "error level must be 0 or 1, not '%s'", tok[2]);
		return;
	}
	int level = tok[2][0] == '1';
	char name[8];
	pins_name(pin, name, sizeof name);
	uint64_t now = harness_cycle(h);
	if (ntok == 3) {
		pins_apply(h, pin, level);
		harness_emit(h, "in %s %d %llu", name, level, (unsigned long long)now);
		return;
	}
	char *end = NULL;
	errno = 0;
	unsigned long long at = strtoull(tok[4], &end, 10);
	if (errno || !*tok[4] || *end || tok[4][0] == '-') {
		harness_emit(h, "error bad cycle '%s'", tok[4]);
		return;
	}
	if (at <= now) {
		harness_emit(h, "error cycle %llu already passed (now %llu)", at, (unsigned long long)now);
		return;
	}
	if (pins_schedule(h, pin, level, at) != 0) {
		harness_emit(h, "error %d edges already scheduled", HARNESS_MAX_SCHEDULED);
		return;
	}
	harness_emit(h, "sched %s %d %llu", name, level, at);
}

static void run_command(harness_t *h, char *line)
{
	char *tok[8];
	int ntok = 0;
	for (char *save = NULL, *t = strtok_r(line, " \t\r", &save); t && ntok < 8;
	     t = strtok_r(NULL, " \t\r", &save))
		tok[ntok++] = t;
	if (ntok == 0)
		return;
	if (strcmp(tok[0], "pin") == 0) {
		cmd_pin(h, tok, ntok);
	} else if (strcmp(tok[0], "cycle") == 0 && ntok == 1) {
		harness_emit(h, "cycle %llu lag_us %lld", (unsigned long long)harness_cycle(h),
		             (long long)(h->worst_lag_ns / 1000));
	} else if (strcmp(tok[0], "stats") == 0 && ntok == 1) {
		harness_emit(h, "stats cycle %llu lag_us %lld sleeps %lld tx_bytes %llu rx_bytes %llu "
		             "tx_dropped %llu",
		             (unsigned long long)harness_cycle(h), (long long)(h->worst_lag_ns / 1000),
		             (long long)h->pace_sleeps, (unsigned long long)h->tx_bytes,
		             (unsigned long long)h->rx_bytes, (unsigned long long)h->tx_dropped);
	} else if (strcmp(tok[0], "start") == 0 && ntok == 1) {
		g_started = 1;
		harness_emit(h, "started %llu", (unsigned long long)harness_cycle(h));
	} else if (strcmp(tok[0], "quit") == 0 && ntok == 1) {
		h->quit = 1;
	} else {
		harness_emit(h, "error unknown command '%s' (pin, cycle, stats, start, quit)", tok[0]);
	}
}

static void read_commands(harness_t *h)
{
	char buf[1024];
	ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
	if (n == 0) {
		h->quit = 1;  /* the test that started us is gone */
		return;
	}
	if (n < 0)
		return;
	for (ssize_t i = 0; i < n; i++) {
		char c = buf[i];
		if (c == '\n') {
			if (h->line_overflow)
				harness_emit(h, "error line longer than %zu bytes", sizeof h->line - 1);
			else {
				h->line[h->line_len] = '\0';
				run_command(h, h->line);
			}
			h->line_len = 0;
			h->line_overflow = 0;
		} else if (h->line_len < sizeof h->line - 1) {
			h->line[h->line_len++] = c;
		} else {
			h->line_overflow = 1;
		}
	}
}

/* The pacing point: serve stdin and the pty, and keep the simulation near the wall clock.
 * Input is taken only once the wall clock has caught up with the simulation, so neither a
 * byte nor a pin command reaches the firmware at a cycle before the host sent it. */
static avr_cycle_count_t pace_tick(avr_t *avr, avr_cycle_count_t when, void *param)
{
	harness_t *h = param;
	struct pollfd fds[2] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = bridge_fd(), .events = POLLIN },
	};
	int ready = poll(fds, 2, 0);
	int pty_in = ready > 0 && (fds[1].revents & POLLIN);
	int cmd_in = ready > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR));
	pace_to(h, harness_cycle(h), pty_in || cmd_in);
	bridge_tick(h, pty_in);
	if (cmd_in)
		read_commands(h);
	avr_cycle_count_t next = when + HARNESS_PACE_CYCLES;
	return next > avr->cycle ? next : avr->cycle + HARNESS_PACE_CYCLES;
}

static void arm_pace_timer(harness_t *h)
{
	avr_cycle_timer_register(h->avr, HARNESS_PACE_CYCLES, pace_tick, h);
}

/* Installed as avr->reset: simavr calls it from avr_reset (watchdog), after it has emptied
 * the cycle-timer table and before it may zero avr->cycle. */
static void on_core_reset(avr_t *avr)
{
	if (g_core_reset)
		g_core_reset(avr);
	g_harness.reset_pending = 1;
	g_harness.cycle_before_reset = avr->cycle;
}

static void after_core_reset(harness_t *h)
{
	h->reset_pending = 0;
	if (h->avr->cycle < h->cycle_before_reset)
		h->cycle_base += h->cycle_before_reset - h->avr->cycle;
	harness_emit(h, "reset %llu", (unsigned long long)harness_cycle(h));
	arm_pace_timer(h);
	bridge_after_reset(h);
	pins_after_reset(h);
}

/* simavr's own sleep callback calls usleep() when the core sleeps; pacing does that job. */
static void no_sleep(avr_t *avr, avr_cycle_count_t how_long)
{
	(void)avr;
	(void)how_long;
}

static void on_signal(int sig)
{
	(void)sig;
	g_stop_signal = 1;
}

static const char *state_name(int state)
{
	switch (state) {
	case cpu_Done:
		return "done";
	case cpu_Crashed:
		return "crashed";
	case cpu_Stopped:
		return "stopped";
	default:
		return "unknown";
	}
}

static void save_eeprom(harness_t *h)
{
	if (g_eeprom_path && eeprom_save(h->avr, g_eeprom_path) != 0)
		harness_emit(h, "error cannot write EEPROM to %s", g_eeprom_path);
}

int main(int argc, char **argv)
{
	const char *mmcu = "atmega328p";
	unsigned long freq = 16000000UL;
	const char *elf = NULL;
	int wait_start = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--eeprom") == 0 && i + 1 < argc) {
			g_eeprom_path = argv[++i];
		} else if (strcmp(argv[i], "--mmcu") == 0 && i + 1 < argc) {
			mmcu = argv[++i];
		} else if (strcmp(argv[i], "--freq") == 0 && i + 1 < argc) {
			char *end = NULL;
			freq = strtoul(argv[++i], &end, 10);
			if (*end || freq == 0 || freq > 100000000UL) {
				fprintf(stderr, "simavr-harness: bad --freq '%s'\n", argv[i]);
				return EXIT_USAGE;
			}
		} else if (strcmp(argv[i], "--wait-start") == 0) {
			wait_start = 1;
		} else if (strcmp(argv[i], "--verbose") == 0) {
			g_verbose = 1;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' || elf) {
			usage(stderr);
			return EXIT_USAGE;
		} else {
			elf = argv[i];
		}
	}
	if (!elf) {
		usage(stderr);
		return EXIT_USAGE;
	}

	harness_t *h = &g_harness;
	/* Protocol lines go to a private copy of stdout; fd 1 becomes stderr, so anything
	 * libsimavr prints on its own cannot corrupt the stream the tests parse. */
	int out_fd = dup(STDOUT_FILENO);
	if (out_fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		perror("simavr-harness: dup");
		return EXIT_USAGE;
	}
	fcntl(out_fd, F_SETFD, FD_CLOEXEC);
	h->out = fdopen(out_fd, "w");
	if (!h->out) {
		perror("simavr-harness: fdopen");
		return EXIT_USAGE;
	}
	avr_global_logger_set(stderr_logger);

	elf_firmware_t fw;
	memset(&fw, 0, sizeof fw);
	if (elf_read_firmware(elf, &fw) != 0) {
		fprintf(stderr, "simavr-harness: cannot load %s\n", elf);
		return EXIT_USAGE;
	}
	snprintf(fw.mmcu, sizeof fw.mmcu, "%s", mmcu);
	fw.frequency = (uint32_t)freq;
	avr_t *avr = avr_make_mcu_by_name(fw.mmcu);
	if (!avr) {
		fprintf(stderr, "simavr-harness: unknown mmcu '%s'\n", fw.mmcu);
		return EXIT_USAGE;
	}
	if (avr_init(avr) != 0) {
		fprintf(stderr, "simavr-harness: cannot initialise the %s core\n", fw.mmcu);
		return EXIT_USAGE;
	}
	avr->log = g_verbose ? LOG_TRACE : LOG_ERROR;
	avr_load_firmware(avr, &fw);
	avr->frequency = (uint32_t)freq;
	avr->sleep = no_sleep;
	h->avr = avr;
	h->freq_hz = (uint32_t)freq;
	if (g_eeprom_path && eeprom_load(avr, g_eeprom_path) != 0)
		return EXIT_USAGE;

	char pty_path[256];
	if (bridge_open(h, pty_path, sizeof pty_path) != 0) {
		perror("simavr-harness: pty");
		return EXIT_USAGE;
	}
	bridge_attach(h);
	pins_attach(h);
	timer_flags_attach(h);
	g_core_reset = avr->reset;
	avr->reset = on_core_reset;

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	harness_emit(h, "pty %s", pty_path);
	/* --wait-start: power up only once told, so a host can open the pty first (pyserial
	 * flushes its input when it opens a port) and set input pins before the firmware boots */
	g_started = !wait_start;
	while (!g_started && !h->quit && !g_stop_signal) {
		struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
		if (poll(&in, 1, -1) > 0)
			read_commands(h);
	}
	pace_start(h);
	arm_pace_timer(h);

	int state = cpu_Running;
	while (!h->quit && !g_stop_signal) {
		state = avr_run(avr);
		if (state == cpu_Done || state == cpu_Crashed)
			break;
		if (h->reset_pending)
			after_core_reset(h);
	}
	bridge_flush_all(h);
	save_eeprom(h);
	if (state == cpu_Done || state == cpu_Crashed) {
		harness_emit(h, "crashed %llu %s", (unsigned long long)harness_cycle(h),
		             state_name(state));
		return EXIT_CRASHED;
	}
	harness_emit(h, "bye %llu", (unsigned long long)harness_cycle(h));
	return 0;
}
