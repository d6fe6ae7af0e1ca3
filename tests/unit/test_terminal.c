/* SPDX-License-Identifier: MIT */
/* terminal.c: the caller's terminal settings put back after a run. */
#include "terminal.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
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
