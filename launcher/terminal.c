/* SPDX-License-Identifier: MIT */
#include "terminal.h"
#include "util.h"

#include <string.h>
#include <sys/stat.h>

/* Zeroed first, so that two settings compare whole, padding included. */
static int get(int fd, struct termios *ret)
{
	memset(ret, 0, sizeof(*ret));
	return tcgetattr(fd, ret) < 0 ? -errno : 0;
}

void hb_terminal_save(struct hb_terminal *t)
{
	dev_t seen[3] = {0};
	struct stat st;

	for (int fd = 0; fd < 3; fd++) {
		bool again = false;
		t->fd[fd] = -1;
		if (!isatty(fd) || fstat(fd, &st) < 0)
			continue;
		seen[fd] = st.st_rdev;
		for (int i = 0; i < fd; i++)
			again |= t->fd[i] >= 0 && seen[i] == st.st_rdev;
		if (!again && get(fd, &t->saved[fd]) == 0)
			t->fd[fd] = fd;
	}
}

int hb_terminal_restore(const struct hb_terminal *t)
{
	struct termios now;
	int restored = 0, r = 0;
	pid_t fg;

	for (int i = 0; i < 3; i++) {
		if (t->fd[i] < 0 || get(t->fd[i], &now) < 0 ||
		    memcmp(&now, &t->saved[i], sizeof(now)) == 0)
			continue;
		/* Our controlling terminal, with another process group in
		 * the foreground: we run in the background, and the settings
		 * are the foreground program's (the sandbox cannot change
		 * them), not ours to undo. */
		fg = tcgetpgrp(t->fd[i]);
		if (fg > 0 && fg != getpgrp())
			continue;
		/* TCSANOW: draining first would wait on a stopped terminal.
		 * SIGTTOU, which a background hivebox would get, is
		 * ignored. */
		if (tcsetattr(t->fd[i], TCSANOW, &t->saved[i]) < 0)
			r = r ?: -errno;
		else
			restored++;
	}
	return r ?: restored;
}

int hb_terminal_raw(int fd)
{
	struct termios t;
	tcflag_t oflag;

	if (get(fd, &t) < 0)
		return -errno;
	oflag = t.c_oflag;
	cfmakeraw(&t);
	t.c_oflag = oflag;
	return tcsetattr(fd, TCSANOW, &t) < 0 ? -errno : 0;
}
