# webscale: build, boot, test, debug.
#
#   make run     build the ISO and boot it in QEMU; the serial console is this terminal
#                (NET=tap, as root: on a TAP link in a network namespace, README "The network";
#                NIC=rtl8139: the PCI card instead of the NE2000, README "The network cards")
#   make bochs   (or make run EMU=bochs) the same ISO in Bochs 2.7 (tools/bochs.py)
#   make test    every test (host unit tests, in-kernel suites, console, GDB); last line "N passed, N failed"
#   make gdb     QEMU paused in the background, GDB in front, stopped at kmain
#   make qemu-gdb  QEMU paused here, waiting for GDB from a second terminal
#   make record DEMO="threads 2 3"   record a run (build/rec/NAME/, tools/rr.py)
#   make replay [REC=NAME]   replay it paused under GDB; reverse-stepi works
#   make replay-check [REC=NAME]   replay without GDB, diff the console
#   make trace DEMO="threads 3 1"   the demo's scheduling trace as pictures (build/trace/)
#   make webscale   the talk's answer on the TAP link, as root: wrk against both httpd styles,
#                build/webscale/answer.md and webscale.svg (tools/webscale.py)
#   make bench   the performance goals (README, "Numbers"), measured in instructions under -icount,
#                on a kernel without ASSERTs (build/no-assert/; BENCH_ASSERT=1: the usual kernel)
#   make iso | kernel | clean
#
# Both run and test first install what is missing (tools/setup.sh; make test
# also clang, make bochs also Bochs).
# The cross compiler is Debian's i686-linux-gnu-gcc; CROSS= picks another prefix.

CROSS   ?= i686-linux-gnu-
CC      := $(CROSS)gcc
NM      := $(CROSS)nm
OBJDUMP := $(CROSS)objdump
HOSTCC  ?= gcc
QEMU    ?= qemu-system-i386
PYTHON  ?= python3

B  := build
HZ ?= 1000
# NO_ASSERT=1 compiles every ASSERT out (<webscale/assert.h>), into a build
# folder of its own so that make run and make test never get that kernel.
ifeq ($(NO_ASSERT),1)
B := build/no-assert
endif

CFLAGS := -std=gnu11 -march=i386 -m32 -ffreestanding -fno-pie -fno-pic \
          -fno-stack-protector -nostdlib -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer \
          -fno-asynchronous-unwind-tables -fno-unwind-tables \
          -mgeneral-regs-only -mpreferred-stack-boundary=2 \
          -O2 -g -Wall -Wextra -Wno-unused-parameter \
          -I. -Ikernel/include -DHZ=$(HZ)
ifeq ($(WERROR),1)
CFLAGS += -Werror
endif
ifeq ($(NO_ASSERT),1)
CFLAGS += -DWS_NO_ASSERT
endif
LDFLAGS := -m32 -nostdlib -static -no-pie -Wl,-T,linker.ld -Wl,--build-id=none \
           -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments

GUEST_SRCS := $(wildcard boot/*.c boot/*.S kernel/*.c kernel/*.S kernel/lib/*.c kernel/loop/*.c \
                         kernel/net/*.c drivers/*.c user/*.c tests/kernel/*.c)
GUEST_OBJS := $(patsubst %,$(B)/%.o,$(basename $(GUEST_SRCS)))
# The dashboard's HTML, CSS and JavaScript (user/web/), embedded as they are
# in the repo by tools/embed.py (user/web_assets.h); and make webscale's
# plot once there is one, which the dashboard then shows.
WEB_ASSETS := $(sort $(wildcard user/web/*.html user/web/*.css user/web/*.js)) \
              $(wildcard build/webscale/webscale.svg)
GUEST_OBJS += $(B)/gen/web_assets.o

# Ring-3 programs (user/ring3/*.c, one program a file) with their runtime
# (user/ring3/lib/: _start, the system call stubs, printf over write, on
# the kernel's pure formatting engine compiled again), each linked at the
# user address of user/ring3/lib/user.ld, then all embedded in the kernel
# image as .rodata (build/ring3/programs.S, tools/mkprograms.py).
RING3_PROGS := $(basename $(notdir $(wildcard user/ring3/*.c)))
RING3_LIB := $(B)/user/ring3/lib/crt0.o $(B)/user/ring3/lib/ulib.o $(B)/ring3/format.o \
             $(B)/ring3/string.o
RING3_ELFS := $(patsubst %,$(B)/ring3/%.elf,$(RING3_PROGS))
RING3_STRIPPED := $(patsubst %,$(B)/ring3/stripped/%.elf,$(RING3_PROGS))
RING3_OBJS := $(patsubst %,$(B)/user/ring3/%.o,$(RING3_PROGS)) $(RING3_LIB)
GUEST_OBJS += $(B)/ring3/programs.o
# Kept after the build (make would delete them as intermediates): gdb's
# `ws user NAME` reads a program's symbols from build/ring3/NAME.elf.
.SECONDARY: $(RING3_ELFS) $(RING3_STRIPPED) $(RING3_OBJS)

# The machine (CPU, memory, debug exit) and its network are defined once,
# in tools/machine.py; the tests and tools import the same definitions.
QEMU_MACHINE := $(shell $(PYTHON) tools/machine.py)
ifeq ($(DEBUG),int)
QEMU_MACHINE += -d int,cpu_reset
endif
# The NIC on QEMU's user network (restrict=on, host forwards bound to
# 127.0.0.1 alone). Pick other ports if 8080/7777 are taken (two users, one
# machine): make run NET_TCP_PORT=18080 NET_UDP_PORT=17777.
NET_TCP_PORT ?= 8080
NET_UDP_PORT ?= 7777
# The network card: NIC=ne2000 (ISA, the default) or NIC=rtl8139 (PCI, bus
# mastering; frames wait in QEMU instead of being dropped when the guest is
# behind: README "The network cards").
NIC ?= ne2000
QEMU_NET := $(shell $(PYTHON) tools/machine.py --net $(NET_TCP_PORT) $(NET_UDP_PORT) --nic $(NIC))
# make run NET=tap (as root): the NE2000 on a TAP device inside a private
# network namespace NETNS instead, a direct link to the guest's own TCP;
# tests/lib/tapnet.py makes it, runs QEMU in it, removes it when QEMU ends.
NETNS ?= webscale
# What httpd tells the user to fetch (the kernel command line's http_url=).
HTTP_URL := http://127.0.0.1:$(NET_TCP_PORT)/
PORT_CHECK := $(PYTHON) tools/freeport.py --check $(NET_TCP_PORT) $(NET_UDP_PORT)
ifeq ($(NET),tap)
QEMU_NET := $(shell $(PYTHON) tools/machine.py --tap --nic $(NIC))
IN_NET := $(PYTHON) tests/lib/tapnet.py --netns $(NETNS) --
HTTP_URL := http://10.0.2.15/
PORT_CHECK := true
endif
# machine.py prints nothing (and says why) for a card it does not know.
ifeq ($(QEMU_NET),)
$(error no network for NIC=$(NIC): make run NIC=ne2000 or NIC=rtl8139)
endif
# After QEMU, turn the terminal's line wrap back on (SeaBIOS turned it off),
# and tell a clean halt (or Ctrl-A X) from QEMU's own error, which exits 1:
# the kernel's exits are odd and at least 3 (tools/machine.py --status).
QEMU_STATUS = rc=$$?; [ -t 1 ] && printf '\033[?7h'; $(PYTHON) tools/machine.py --status $$rc "make $@"

.PHONY: FORCE all kernel iso run bochs run-kernel test host-tests bench webscale gdb qemu-gdb trace clean setup
all: kernel

setup:
	@./tools/setup.sh

kernel: setup $(B)/kernel.elf $(RING3_ELFS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

-include $(GUEST_OBJS:.o=.d) $(RING3_OBJS:.o=.d)

$(B)/ring3/%.o: kernel/lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/ring3/%.elf: $(B)/user/ring3/%.o $(RING3_LIB) user/ring3/lib/user.ld
	@mkdir -p $(dir $@)
	$(CC) -m32 -nostdlib -static -no-pie -Wl,-T,user/ring3/lib/user.ld -Wl,--build-id=none \
		-Wl,-z,noexecstack -o $@ $< $(RING3_LIB) $$($(CC) -m32 -print-libgcc-file-name)

# The kernel carries them without debug information; gdb reads the
# symbols from build/ring3/NAME.elf.
$(B)/ring3/stripped/%.elf: $(B)/ring3/%.elf
	@mkdir -p $(dir $@)
	$(CROSS)strip -o $@ $<

$(B)/ring3/programs.S: $(RING3_STRIPPED) tools/mkprograms.py
	$(PYTHON) tools/mkprograms.py $(RING3_STRIPPED) > $@

$(B)/ring3/programs.o: $(B)/ring3/programs.S
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/gen/web_assets.c: $(WEB_ASSETS) tools/embed.py
	$(PYTHON) tools/embed.py $@ $(WEB_ASSETS)

$(B)/gen/web_assets.o: $(B)/gen/web_assets.c user/web_assets.h
	$(CC) $(CFLAGS) -c $< -o $@

# Two links: the first has an empty symbol table; its symbols go into the
# second. .ksyms lies after .text (linker.ld), so no function moves, and
# mksyms --check proves it.
$(B)/kernel.elf: $(GUEST_OBJS) linker.ld tools/mksyms.py
	$(PYTHON) tools/mksyms.py --empty > $(B)/ksyms0.S
	$(CC) $(CFLAGS) -c $(B)/ksyms0.S -o $(B)/ksyms0.o
	$(CC) $(LDFLAGS) -o $(B)/kernel.pass1.elf $(GUEST_OBJS) $(B)/ksyms0.o $$($(CC) -m32 -print-libgcc-file-name)
	$(NM) -n $(B)/kernel.pass1.elf > $(B)/kernel.pass1.sym
	$(PYTHON) tools/mksyms.py < $(B)/kernel.pass1.sym > $(B)/ksyms.S
	$(CC) $(CFLAGS) -c $(B)/ksyms.S -o $(B)/ksyms.o
	$(CC) $(LDFLAGS) -o $@ $(GUEST_OBJS) $(B)/ksyms.o $$($(CC) -m32 -print-libgcc-file-name)
	$(NM) -n $@ > $(B)/kernel.sym
	$(PYTHON) tools/mksyms.py --check $(B)/kernel.pass1.sym $(B)/kernel.sym
	$(OBJDUMP) -d -S --no-show-raw-insn $@ > $(B)/kernel.asm
	grub-file --is-x86-multiboot $@

iso: setup $(B)/webscale.iso

# The ISO's kernel command line names the URL httpd prints; it is rebuilt
# when that changes (make run NET_TCP_PORT=18080).
$(B)/http_url: FORCE
	@mkdir -p $(B)
	@echo '$(HTTP_URL)' | cmp -s - $@ || echo '$(HTTP_URL)' > $@

$(B)/webscale.iso: $(B)/kernel.elf boot/grub.cfg $(B)/http_url
	@mkdir -p $(B)/iso/boot/grub
	cp $(B)/kernel.elf $(B)/iso/boot/kernel.elf
	sed 's|^    multiboot /boot/kernel.elf$$|    multiboot /boot/kernel.elf http_url=$(HTTP_URL)|' \
		boot/grub.cfg > $(B)/iso/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(B)/iso 2> $(B)/grub-mkrescue.log || { cat $(B)/grub-mkrescue.log; exit 1; }

# -boot d: straight to the CD, without SeaBIOS's "Boot failed: could not
# read the boot disk" from the empty floppy drive first.
ifneq ($(filter-out qemu bochs,$(EMU)),)
$(error EMU=$(EMU): make run knows EMU=qemu (the default) and EMU=bochs)
endif
ifeq ($(EMU),bochs)
run: bochs
else
run: setup $(B)/webscale.iso
	@$(PORT_CHECK)
	@echo "webscale: booting build/webscale.iso in QEMU. Quit with Ctrl-A X, or type 'halt'."
	@$(IN_NET) $(QEMU) $(QEMU_MACHINE) $(QEMU_NET) -nographic -serial mon:stdio -boot d -cdrom $(B)/webscale.iso; $(QEMU_STATUS)
endif

# The same ISO in Bochs (installed when first asked for: setup.sh bochs).
# IPS= sets the emulated CPU's instructions per second (default 50000000);
# BOCHS_DEBUG=1 puts Bochs's own debugger in this terminal.
bochs: setup $(B)/webscale.iso
	@./tools/setup.sh bochs
	@$(PORT_CHECK)
	@$(PYTHON) tools/bochs.py --tcp $(NET_TCP_PORT) --udp $(NET_UDP_PORT) $(if $(IPS),--ips $(IPS)) \
		$(if $(BOCHS_DEBUG),--debugger)

# The same kernel without GRUB: faster to start, what the tests use.
# APPEND="run=threads 4 3" passes a kernel command line.
run-kernel: kernel
	@$(PORT_CHECK)
	@echo "webscale: booting build/kernel.elf in QEMU. Quit with Ctrl-A X, or type 'halt'."
	@$(IN_NET) $(QEMU) $(QEMU_MACHINE) $(QEMU_NET) -nographic -serial mon:stdio -kernel $(B)/kernel.elf \
		-append "http_url=$(HTTP_URL) $(APPEND)"; $(QEMU_STATUS)

# ---- host-side unit tests of the pure modules, with sanitizers ----
HOST_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -fsanitize=address,undefined \
               -fno-sanitize-recover=all -fno-builtin -I. -Ikernel/include
HOST_TESTS := $(patsubst tests/host/%.c,$(B)/host/%,$(wildcard tests/host/test_*.c))
HOST_LIB := kernel/lib/format.c kernel/lib/ring.c kernel/lib/heap.c kernel/lib/scaled.c kernel/lib/minheap.c kernel/lib/ratelimit.c \
            kernel/net/inet.c kernel/net/parse.c kernel/net/arp_table.c

$(B)/host/%: tests/host/%.c $(HOST_LIB) $(wildcard kernel/lib/*.h kernel/net/*.h kernel/include/webscale/*.h)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $< $(HOST_LIB)

# The TCP state machine: its files (not tcp_sock.c, which needs threads)
# against tests/host/tcp_stubs.c; tests/host/shim stands in for kernel/x86.h.
HOST_TCP := $(filter-out kernel/net/tcp_sock.c,$(wildcard kernel/net/tcp*.c)) tests/host/tcp_stubs.c

$(B)/host/test_tcp_state: tests/host/test_tcp_state.c $(HOST_TCP) $(HOST_LIB) $(wildcard tests/host/*.h tests/host/shim/kernel/*.h kernel/lib/*.h kernel/net/*.h kernel/include/webscale/*.h)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -iquote tests/host/shim -o $@ $< $(HOST_TCP) $(HOST_LIB)

# httpd's request parsing and response framing (user/http.c, pure).
$(B)/host/test_http: tests/host/test_http.c user/http.c user/http.h user/outbuf.c $(HOST_LIB) $(wildcard tests/host/*.h kernel/include/webscale/*.h)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $< user/http.c user/outbuf.c $(HOST_LIB)

# What scale and cpu-vs-io may conclude from timings that drifted (user/demo_cost.c, pure).
$(B)/host/test_demo_cost: tests/host/test_demo_cost.c user/demo_cost.c user/demo_cost.h tests/host/check.h
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $< user/demo_cost.c

# The shell's line editor (user/lineedit.c, pure).
$(B)/host/test_lineedit: tests/host/test_lineedit.c user/lineedit.c user/lineedit.h $(HOST_LIB) $(wildcard tests/host/*.h kernel/include/webscale/*.h)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $< user/lineedit.c $(HOST_LIB)

# The bounded buffer httpd's pages are built in (user/outbuf.c, pure).
$(B)/host/test_outbuf: tests/host/test_outbuf.c user/outbuf.c user/outbuf.h $(HOST_LIB) $(wildcard tests/host/*.h kernel/include/webscale/*.h)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $< user/outbuf.c $(HOST_LIB)

host-tests: $(HOST_TESTS)

test: setup kernel iso host-tests
	@./tools/setup.sh test
	$(PYTHON) tests/run.py $(TESTS)

# The figures are the code's, not its checks': bench boots a kernel built
# with NO_ASSERT=1 and its header says so (the bench suite reports it).
ifeq ($(BENCH_ASSERT),1)
bench: setup kernel
	BENCH_STRICT=$(BENCH_STRICT) $(PYTHON) tools/bench.py
else
bench: setup
	$(MAKE) --no-print-directory kernel NO_ASSERT=1
	WS_KERNEL=build/no-assert/kernel.elf BENCH_STRICT=$(BENCH_STRICT) $(PYTHON) tools/bench.py
endif

# The talk's question answered on the TAP link (tools/webscale.py, root):
# wrk against both styles at 1, 10, 100, 1000 connections, a fast page and
# a slow service; build/webscale/answer.md and webscale.svg. The next build
# embeds the plot in the dashboard (WEB_ASSETS).
webscale: setup kernel
	@$(PYTHON) tools/webscale.py

# ---- GDB ----
# tools/gdb/launch.py picks a free 127.0.0.1 port per user (tools/freeport.py)
# and passes gdb its script with -x. APPEND="run=threads 2" as for run-kernel.
gdb: kernel
	@$(PYTHON) tools/gdb/launch.py --mode both --append "$(APPEND)"

qemu-gdb: kernel
	@$(PYTHON) tools/gdb/launch.py --mode qemu --append "$(APPEND)"

# ---- the scheduling trace as pictures (tools/trace2view.py) ----
# Boots the kernel without a NIC under -icount (1 instruction = 1 ns, so
# the same picture every time), types DEMO, then `trace dump TRACE_MS`,
# and converts the dump. DEMO defaults to "threads 3 1"; a demo that does
# not end by itself is stopped after TRACE_TIMEOUT wall seconds, undumped.
TRACE_DEMO = $(or $(DEMO),threads 3 1)
TRACE_MS ?= 200
TRACE_TIMEOUT ?= 120
trace: kernel
	@mkdir -p $(B)/trace
	@timeout $(TRACE_TIMEOUT) $(QEMU) $(QEMU_MACHINE) -display none -monitor none \
		-icount shift=0,sleep=off,align=off -serial file:$(B)/trace/console.txt \
		-kernel $(B)/kernel.elf -append "run=$(TRACE_DEMO); trace dump $(TRACE_MS); halt"; \
		rc=$$?; $(PYTHON) tools/machine.py --status $$rc "make trace" || true
	@echo "make trace: console in $(B)/trace/console.txt"
	@$(PYTHON) tools/trace2view.py $(B)/trace/console.txt --json $(B)/trace/trace.json --svg $(B)/trace/trace.svg

# ---- record and replay (QEMU's rr mode; tools/rr.py) ----
# REC=NAME picks build/rec/NAME (default: the demo's words; the newest for
# replay); RECORDED_KERNEL=1 replays a recording's own kernel copy even
# though build/kernel.elf has changed since.
RR_OPTS = $(if $(REC),--name "$(REC)") $(if $(RECORDED_KERNEL),--recorded-kernel)

record: kernel
	@$(PYTHON) tools/rr.py record --demo "$(DEMO)" $(if $(REC),--name "$(REC)") $(if $(NET),--net)

replay: kernel
	@$(PYTHON) tools/rr.py replay $(RR_OPTS)

replay-check: kernel
	@$(PYTHON) tools/rr.py check $(RR_OPTS)

clean:
	rm -rf $(B)
