# hivebox — see README.md.  `make demo` sets up and runs the example,
# `make check` runs every test.
SHELL = /bin/bash
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
LIBEXECDIR = $(PREFIX)/libexec/hivebox
MANDIR = $(PREFIX)/share/man
SYSCONFDIR ?= /etc
# Where a bare policy name is searched after the including file's
# directory (hivebox-policy(5)): the machine's, then the shipped ones.
POLICYDIR = $(PREFIX)/share/hivebox/policies
SYSPOLICYDIR = $(SYSCONFDIR)/hivebox/policies
COMPLETIONDIR = $(PREFIX)/share/bash-completion/completions
# What --version says (debian/rules passes the package's version).
VERSION ?= 0.1
# The interpreter whose root file system is compiled in.
INTERPRETER ?= /usr/bin/python3
# Debian's python3, not whatever python3 comes first in PATH.
PYTHON ?= /usr/bin/python3

CC ?= cc
CFLAGS ?= -O2 -g
HB_CFLAGS = -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	-Wmissing-prototypes -Wstrict-prototypes -Ilauncher -Ibuild \
	-DHB_LIBEXECDIR='"$(LIBEXECDIR)"' \
	-DHB_POLICY_SHIPPED_DIR='"$(POLICYDIR)"' \
	-DHB_POLICY_SYSTEM_DIR='"$(SYSPOLICYDIR)"' \
	-DHB_VERSION='"$(VERSION)"' \
	$(shell pkg-config --cflags json-c)
LIBS = -linih -lcap -ljson-c -lnftnl -lmnl -lsodium -lseccomp
# hivebox itself links the libraries Debian ships as static archives into
# the binary (libmnl has none): the dynamic loader then maps and
# relocates two objects instead of nine, 0.2-0.3 ms of each run's start
# (hyperfine -N -r 200 'hivebox --version', 1.0-1.1 against 0.8 ms).
# The cost: a fixed library needs hivebox rebuilt.  STATIC_LIBS=no links
# them as shared objects, as the tests and the fuzzers always do.
STATIC_LIBS ?= yes
ifeq ($(STATIC_LIBS),yes)
HB_LIBS = -Wl,-Bstatic -linih -lcap -ljson-c -lnftnl -lsodium -lseccomp \
	-Wl,-Bdynamic -lmnl
else
HB_LIBS = $(LIBS)
endif
TEST_LIBS = -lcriterion

B = build
SRCS = $(filter-out launcher/main.c,$(wildcard launcher/*.c))
OBJS = $(SRCS:launcher/%.c=$(B)/%.o) $(B)/rootfs_data.o
ASAN_OBJS = $(SRCS:launcher/%.c=$(B)/asan/%.o) $(B)/asan/rootfs_data.o
UNIT_SRCS = $(wildcard tests/unit/*.c)
HEADERS = $(wildcard launcher/*.h)
ASAN = -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
# libFuzzer needs clang.  Every sanitizer report aborts, so that the
# fuzzer sees it as a crash.  Clang, unlike gcc, warns about two macros
# of system headers (NLMSG_OK, SCMP_A0) that launcher/ uses as they are
# meant to be used.
FUZZ_CC = clang
FUZZ_SAN = -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_LAUNCHER_CFLAGS = -Wno-sign-compare -Wno-missing-field-initializers
FUZZ_TARGETS = policy audit
FUZZ_OBJS = $(SRCS:launcher/%.c=$(B)/fuzz/obj/%.o) $(B)/fuzz/obj/rootfs_data.o
FUZZ_SECONDS ?= 20

DEB_PACKAGES = build-essential pkg-config python3 libinih-dev libcap-dev \
	libjson-c-dev libseccomp-dev libmnl-dev libnftnl-dev libcriterion-dev \
	libsodium-dev python3-pytest clang-format cppcheck bubblewrap hyperfine \
	iproute2 nftables util-linux clang libclang-rt-14-dev cron \
	debhelper lintian bash-completion

.PHONY: FORCE all deps demo check unit unit-asan integration lint format \
	install setup setup-left uninstall bench clean fuzz fuzz-cc \
	fuzz-check check-rules deb deb-check

all: $(B)/hivebox

$(B) $(B)/asan:
	mkdir -p $@

$(B)/rootfs_data.c: scripts/gen-rootfs $(wildcard rootfs/etc/*) | $(B)
	$(PYTHON) -I scripts/gen-rootfs $(INTERPRETER) $(B)/python3.manifest $@ rootfs/etc

# The paths and version compiled in: a build for another PREFIX rebuilds
# the objects, so that `make install PREFIX=/usr` never installs a binary
# that looks under /usr/local.
DEFINES = $(LIBEXECDIR):$(POLICYDIR):$(SYSPOLICYDIR):$(VERSION)
$(B)/defines: FORCE | $(B)
	@[ "$$(cat $@ 2>/dev/null)" = "$(DEFINES)" ] || echo "$(DEFINES)" > $@

$(B)/%.o: launcher/%.c $(HEADERS) $(B)/defines | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(HB_CFLAGS) -c -o $@ $<

$(B)/rootfs_data.o: $(B)/rootfs_data.c launcher/rootfs.h
	$(CC) $(CPPFLAGS) $(CFLAGS) $(HB_CFLAGS) -c -o $@ $<

# Made anew each time: an object whose source is gone must not linger.
$(B)/libhivebox.a: $(OBJS)
	rm -f $@
	ar rcs $@ $^

$(B)/hivebox: $(B)/main.o $(B)/libhivebox.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(HB_LIBS)

$(B)/asan/%.o: launcher/%.c $(HEADERS) $(B)/defines | $(B)/asan
	$(CC) $(CFLAGS) $(HB_CFLAGS) $(ASAN) -c -o $@ $<

$(B)/asan/rootfs_data.o: $(B)/rootfs_data.c launcher/rootfs.h | $(B)/asan
	$(CC) $(CFLAGS) $(HB_CFLAGS) $(ASAN) -c -o $@ $<

$(B)/unit-tests: $(UNIT_SRCS) $(B)/libhivebox.a
	$(CC) $(CFLAGS) $(HB_CFLAGS) -o $@ $(UNIT_SRCS) $(B)/libhivebox.a \
		$(LIBS) $(TEST_LIBS)

$(B)/unit-tests-asan: $(UNIT_SRCS) $(ASAN_OBJS)
	$(CC) $(CFLAGS) $(HB_CFLAGS) $(ASAN) -o $@ $(UNIT_SRCS) \
		$(ASAN_OBJS) $(LIBS) $(TEST_LIBS)

# The fuzz targets (tests/fuzz/) and every launcher source but main.c,
# built by clang with libFuzzer and ASan/UBSan.
fuzz: $(FUZZ_TARGETS:%=$(B)/fuzz/fuzz_%)

# A machine without clang or its fuzzer runtime must not pass for one
# whose fuzz run found nothing.
fuzz-cc:
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz: no" \
		"$(FUZZ_CC); install clang and libclang-rt-14-dev" \
		"(make deps)" >&2; exit 1; }
	@ls "$$($(FUZZ_CC) -print-runtime-dir)"/libclang_rt.fuzzer-*.a \
		>/dev/null 2>&1 || { echo "make fuzz: $(FUZZ_CC) has no" \
		"libFuzzer runtime; install libclang-rt-14-dev (make deps)" \
		>&2; exit 1; }
	@mkdir -p $(B)/fuzz/obj

$(B)/fuzz/obj/%.o: launcher/%.c $(HEADERS) $(B)/defines | fuzz-cc
	$(FUZZ_CC) $(FUZZ_SAN) $(HB_CFLAGS) $(FUZZ_LAUNCHER_CFLAGS) -c -o $@ $<

$(B)/fuzz/obj/rootfs_data.o: $(B)/rootfs_data.c launcher/rootfs.h | fuzz-cc
	$(FUZZ_CC) $(FUZZ_SAN) $(HB_CFLAGS) -c -o $@ $<

$(B)/fuzz/libhivebox.a: $(FUZZ_OBJS)
	rm -f $@
	ar rcs $@ $^

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.c \
		tests/fuzz/fuzz_util.h $(HEADERS) $(B)/fuzz/libhivebox.a | fuzz-cc
	$(FUZZ_CC) $(FUZZ_SAN) $(HB_CFLAGS) -o $@ $< tests/fuzz/fuzz_util.c \
		$(B)/fuzz/libhivebox.a $(LIBS)

# Each target for FUZZ_SECONDS from its seeds alone, in a copy under
# build/: any crash, leak, sanitizer report or hang fails the check.
fuzz-check: fuzz
	scripts/fuzz --fresh --no-build --time $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Small programs the integration tests run inside the sandbox.
$(B)/fixtures/%: tests/fixtures/%.c | $(B)
	mkdir -p $(B)/fixtures
	$(CC) -O2 -Wall -Werror -o $@ $<

deps:
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $(DEB_PACKAGES); \
	else \
		echo "make deps: run as root to install: $(DEB_PACKAGES)"; \
	fi

# The demo keeps its audit trail in build/audit, not in /var/log/hivebox,
# signed with a key of its own, build/demo.key (made by the first demo).
demo: deps all
	test -e $(B)/audit/signing || $(B)/hivebox audit init \
		--dir $(B)/audit --key $(CURDIR)/$(B)/demo.key
	cd examples && ../$(B)/hivebox --audit-dir ../$(B)/audit \
		--policy ../policies/strict.ini hello.py from the sandbox
	$(B)/hivebox audit show --dir $(B)/audit
	$(B)/hivebox audit verify --dir $(B)/audit

unit: $(B)/unit-tests
	$(B)/unit-tests

# Criterion runs each test in a child whose sanitizer report does not fail
# the test, so any report in the output fails the target.
unit-asan: $(B)/unit-tests-asan
	set -o pipefail; ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=print_stacktrace=1 \
		$(B)/unit-tests-asan 2>&1 | tee $(B)/unit-asan.log
	@if grep -q "Sanitizer" $(B)/unit-asan.log; then \
		echo "unit-asan: sanitizer reports above" >&2; exit 1; fi

integration: $(B)/hivebox $(B)/fixtures/showid
	HIVEBOX=$(CURDIR)/$(B)/hivebox FIXTURE_BIN=$(CURDIR)/$(B)/fixtures \
		$(PYTHON) -m pytest -q -ra --basetemp=$(CURDIR)/$(B)/pytest \
		tests/integration

# The analyzer of `hivebox check` against its labelled fixtures.
check-rules:
	$(PYTHON) -m pytest -q -p no:cacheprovider \
		--basetemp=$(CURDIR)/$(B)/pytest-rules tests/check

lint:
	clang-format --dry-run --Werror $(wildcard launcher/*.[ch] \
		tests/unit/*.c tests/fixtures/*.c tests/fuzz/*.[ch])
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--inline-suppr \
		-D_GNU_SOURCE -Ilauncher launcher $(wildcard tests/unit tests/fuzz)

format:
	clang-format -i $(wildcard launcher/*.[ch] tests/unit/*.c \
		tests/fixtures/*.c tests/fuzz/*.[ch])

check: lint unit unit-asan fuzz-check check-rules integration

bench: $(B)/hivebox
	scripts/bench

AUDITDIR = /var/log/hivebox
AUDITKEY = $(SYSCONFDIR)/hivebox/audit.key
CONF = $(DESTDIR)$(SYSCONFDIR)/hivebox/hivebox.conf

# Files, then the machine's set-up: done here when DESTDIR is empty (as
# root), left to the first run or to `hivebox doctor --fix` when it is
# set, since the key and the log directory belong to the machine, not to
# a staged tree.  HB_SETUP=no leaves it out and says nothing
# (debian/rules: the postinst does it).
install: $(B)/hivebox
	install -D -m 0755 $(B)/hivebox $(DESTDIR)$(BINDIR)/hivebox
	install -D -m 0755 scripts/hivebox-check \
		$(DESTDIR)$(LIBEXECDIR)/hivebox-check
	install -D -m 0644 man/hivebox-check.1 \
		$(DESTDIR)$(MANDIR)/man1/hivebox-check.1
	install -D -m 0644 man/hivebox.1 $(DESTDIR)$(MANDIR)/man1/hivebox.1
	install -D -m 0644 man/hivebox-policy.5 \
		$(DESTDIR)$(MANDIR)/man5/hivebox-policy.5
	install -D -m 0644 man/hivebox-audit.5 \
		$(DESTDIR)$(MANDIR)/man5/hivebox-audit.5
	install -d $(DESTDIR)$(POLICYDIR)
	install -m 0644 policies/*.ini $(DESTDIR)$(POLICYDIR)
	install -D -m 0644 conf/hivebox.bash $(DESTDIR)$(COMPLETIONDIR)/hivebox
	install -d -m 0755 $(DESTDIR)$(SYSPOLICYDIR)
	@# An installed hivebox.conf is the administrator's: never replaced.
	@if [ -e $(CONF) ]; then \
		echo "make install: keeping $(CONF) as it is"; \
	else \
		echo "install -D -m 0644 conf/hivebox.conf $(CONF)"; \
		install -D -m 0644 conf/hivebox.conf $(CONF); \
	fi
ifneq ($(HB_SETUP),no)
ifeq ($(DESTDIR),)
	@$(MAKE) --no-print-directory setup
else
	@$(MAKE) --no-print-directory setup-left WHY="DESTDIR is set"
endif
endif

# The audit directory (0750 root:adm, as the Debian package makes it),
# then the key, made and bound to it by hivebox itself: `audit init`
# keeps a key that exists, and fails, loudly, on a trail bound to
# another key.
setup:
	@if [ "$$(id -u)" != 0 ]; then \
		$(MAKE) --no-print-directory setup-left WHY="not root"; \
	else \
		set -ex; \
		[ -d $(AUDITDIR) ] || install -d -m 0750 -o root -g adm \
			$(AUDITDIR); \
		: "audit init refuses, making no key, a trail whose bound key"; \
		: "is lost, so setup fails there rather than leave a stray key"; \
		$(BINDIR)/hivebox audit init --dir $(AUDITDIR) \
			--key $(AUDITKEY); \
	fi

setup-left:
	@echo "make install: $(WHY), so these set-up steps were left to the"
	@echo "  first run, or to 'hivebox doctor --fix' (as root):"
	@echo "  - the audit directory $(AUDITDIR), 0750 root:adm"
	@echo "    (the first run as root makes it, 0750 root:root);"
	@echo "  - the audit key $(AUDITKEY), 0600 root, bound to that"
	@echo "    directory: 'hivebox audit init' (until then root's runs"
	@echo "    warn that the trail is not signed)."

# What install put in place, but not the machine's own: hivebox.conf,
# /etc/hivebox/policies, the key and the trail stay.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/hivebox $(DESTDIR)$(MANDIR)/man1/hivebox.1 \
		$(DESTDIR)$(MANDIR)/man1/hivebox-check.1 \
		$(DESTDIR)$(MANDIR)/man5/hivebox-policy.5 \
		$(DESTDIR)$(MANDIR)/man5/hivebox-audit.5 \
		$(DESTDIR)$(COMPLETIONDIR)/hivebox
	rm -rf $(DESTDIR)$(PREFIX)/share/hivebox $(DESTDIR)$(LIBEXECDIR)
	@echo "make uninstall: kept $(DESTDIR)$(SYSCONFDIR)/hivebox" \
		"(hivebox.conf, policies, the audit key) and $(AUDITDIR)"

# The Debian package (debian/), built by dpkg-buildpackage from a copy
# of the tree: build/hivebox_VERSION_amd64.deb.
DEB_VERSION = $(shell dpkg-parsechangelog -l debian/changelog -S Version)
DEB_ARCH = $(shell dpkg --print-architecture)
deb:
	scripts/deb-build $(B)

# Two builds (the second as a higher version, for the upgrade), lintian
# (any error or warning fails), then install, demo, upgrade, remove and
# purge with dpkg in a mount namespace of overlays (scripts/deb-cycle):
# as root; the machine is left as it was.
DEB_CHECK = $(B)/deb-check
deb-check:
	rm -rf $(DEB_CHECK)
	scripts/deb-build $(DEB_CHECK)
	scripts/deb-build --version $(DEB_VERSION)+cycle1 $(DEB_CHECK)
	# lintian leaves a cache file in its TMPDIR: keep it in the build.
	mkdir -p $(DEB_CHECK)/tmp
	TMPDIR=$(CURDIR)/$(DEB_CHECK)/tmp lintian --fail-on error,warning \
		--display-info --pedantic \
		$(DEB_CHECK)/hivebox_$(DEB_VERSION)_$(DEB_ARCH).deb
	scripts/deb-cycle $(DEB_CHECK)/hivebox_$(DEB_VERSION)_$(DEB_ARCH).deb \
		$(DEB_CHECK)/hivebox_$(DEB_VERSION)+cycle1_$(DEB_ARCH).deb

# Audit logs written by root carry the append-only flag.
clean:
	-chattr -R -a $(B) 2>/dev/null
	rm -rf $(B)
