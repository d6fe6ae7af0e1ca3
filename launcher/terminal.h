/* SPDX-License-Identifier: MIT */
/* The caller's terminal, as it was before the run: the sandbox shares it
 * on its descriptors 0-2.  The filter denies it every request that would
 * change the terminal (seccomp_filter.c); hivebox still puts the settings
 * back as it found them, whatever ended the run. */
#pragma once

#include <termios.h>

struct hb_terminal {
	int fd[3];		 /* -1: not a terminal, or one seen before */
	struct termios saved[3]; /* its settings before the run */
};

/* Note the settings of every distinct terminal on descriptors 0-2. */
void hb_terminal_save(struct hb_terminal *t);
/* Set back what changed since: the number of terminals restored, or
 * -errno for the first that could not be. */
int hb_terminal_restore(const struct hb_terminal *t);
/* hivebox shell: fd's terminal in raw mode, every key passed on as it is
 * typed, signals and echo included, for the session's own pty to act
 * on.  Output processing stays on, so that hivebox's own lines still
 * begin at the margin.  hb_terminal_restore() undoes it.  -errno. */
int hb_terminal_raw(int fd);
