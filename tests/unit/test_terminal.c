/* SPDX-License-Identifier: MIT */
/* terminal.c: the caller's terminal settings put back after a run. */
#include "terminal.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

Test(terminal, settings_are_put_back)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), slave;
	struct termios before, changed, after;
	struct hb_terminal t;

	cr_assert_geq(master, 0);
	cr_assert_eq(grantpt(master), 0);
	cr_assert_eq(unlockpt(master), 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert_geq(slave, 0);
	/* In this test's process alone: the terminal on 0 and 2. */
	cr_assert_eq(dup2(slave, 0), 0);
	cr_assert_eq(dup2(slave, 2), 2);
	memset(&before, 0, sizeof(before));
	cr_assert_eq(tcgetattr(slave, &before), 0);
	hb_terminal_save(&t);
	cr_assert_eq(t.fd[0], 0);
	cr_assert_eq(t.fd[2], -1, "the same terminal once");
	cr_assert_eq(hb_terminal_restore(&t), 0, "nothing changed");
	changed = before;
	changed.c_lflag &= ~(tcflag_t)(ECHO | ISIG);
	cr_assert_eq(tcsetattr(slave, TCSANOW, &changed), 0);
	cr_assert_eq(hb_terminal_restore(&t), 1);
	memset(&after, 0, sizeof(after));
	cr_assert_eq(tcgetattr(slave, &after), 0);
	cr_assert_eq(after.c_lflag, before.c_lflag);
	cr_assert_eq(memcmp(&after, &before, sizeof(after)), 0);
}

/* The child: a session of its own on the pty, with another process group
 * in the foreground; a change made there is not undone. */
static int background_child(const char *pts)
{
	struct termios saved, changed, now;
	struct hb_terminal t;
	int fd;
	pid_t fg;

	signal(SIGTTOU, SIG_IGN);
	if (setsid() < 0 || (fd = open(pts, O_RDWR)) < 0 || dup2(fd, 0) < 0 ||
	    tcgetattr(0, &saved) < 0)
		return 10;
	hb_terminal_save(&t);
	fg = fork();
	if (fg == 0) {
		pause();
		_exit(0);
	}
	if (fg < 0 || setpgid(fg, fg) < 0 || tcsetpgrp(0, fg) < 0)
		return 11;
	changed = saved;
	changed.c_lflag &= ~(tcflag_t)ECHO;
	if (tcsetattr(0, TCSANOW, &changed) < 0)
		return 12;
	if (hb_terminal_restore(&t) != 0)
		return 13;
	if (tcgetattr(0, &now) < 0 || (now.c_lflag & ECHO))
		return 14;
	kill(fg, SIGKILL);
	waitpid(fg, NULL, 0);
	return 0;
}

Test(terminal, a_background_run_leaves_the_foregrounds_settings)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), status;
	pid_t pid;

	cr_assert_geq(master, 0);
	cr_assert_eq(grantpt(master), 0);
	cr_assert_eq(unlockpt(master), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(background_child(ptsname(master)));
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x",
		  status);
	close(master);
}
