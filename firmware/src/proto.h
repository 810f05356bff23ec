/* Protocol v1 messages: what the device answers and what it sends by itself. */
#ifndef PROTO_H
#define PROTO_H

#include <stdint.h>

#include "frame.h"

void proto_start(void);
void proto_handle(const struct frame *f, uint32_t now_ticks);
void proto_poll(uint32_t now_ticks);

#endif
