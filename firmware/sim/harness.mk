# simavr harness (host program) and its selftest firmware, included from firmware/Makefile.
# Paths are relative to firmware/, where `make -C firmware` runs.
#   make -C firmware sim                    build both
#   make -C firmware -f sim/harness.mk sim  the same, without the rest of the firmware build

BUILD ?= build
SIM_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

SIM_HOST_CC ?= cc
SIM_AVR_CC ?= avr-gcc
SIM_PKGS := simavr simavrparts
SIM_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 $(shell pkg-config --cflags $(SIM_PKGS))
SIM_LIBS := $(shell pkg-config --libs $(SIM_PKGS)) -lelf
SIM_SRC := $(wildcard $(SIM_DIR)/*.c)
SIM_HDR := $(wildcard $(SIM_DIR)/*.h)

$(BUILD)/simavr-harness: $(SIM_SRC) $(SIM_HDR) $(SIM_DIR)/harness.mk
	@mkdir -p $(@D)
	$(SIM_HOST_CC) $(SIM_CFLAGS) -o $@ $(SIM_SRC) $(SIM_LIBS)

$(BUILD)/sim-selftest.elf: $(SIM_DIR)/selftest/selftest.c $(SIM_DIR)/harness.mk
	@mkdir -p $(@D)
	$(SIM_AVR_CC) -mmcu=atmega328p -DF_CPU=16000000UL -std=gnu11 -Os -Wall -Wextra -Werror \
		-o $@ $<

.PHONY: sim
sim: $(BUILD)/simavr-harness $(BUILD)/sim-selftest.elf
