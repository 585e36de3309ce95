/* prober: looks at a jail from inside, for tests/bats/jailer.bats. Built
 * static (tests/jail/prober) so it runs in an empty jail root, and dynamic
 * (tests/jail/prober-dyn) to exercise the jailer's library discovery. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static int status(void) {
	static const char* keys[] = {"Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:",
				     "NoNewPrivs:", "Seccomp:", NULL};
	FILE* f = fopen("/proc/self/status", "r");
	if (!f) {
		perror("/proc/self/status");
		return 1;
	}
	char line[512];
	while (fgets(line, sizeof line, f))
		for (const char** k = keys; *k; k++)
			if (strncmp(line, *k, strlen(*k)) == 0) {
				/* one space instead of the tab, easier to match */
				char* v = line + strlen(*k);
				while (*v == ' ' || *v == '\t') v++;
				printf("%s %s", *k, v);
			}
	fclose(f);
	return 0;
}

static int fds(void) {
	DIR* d = opendir("/proc/self/fd");
	if (!d) {
		perror("/proc/self/fd");
		return 1;
	}
	struct dirent* e;
	int self = dirfd(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && atoi(e->d_name) != self) printf("%s\n", e->d_name);
	closedir(d);
	return 0;
}

static int hog(long mb) {
	for (long i = 0; i < mb; i++) {
		char* p = malloc(1 << 20);
		if (!p) {
			printf("malloc failed at %ld MiB\n", i);
			return 1;
		}
		memset(p, 1, 1 << 20);
		if (i % 16 == 0) {
			printf("%ld MiB\n", i);
			fflush(stdout);
		}
	}
	printf("allocated %ld MiB\n", mb);
	return 0;
}

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int spin(double seconds) {
	volatile unsigned long x = 0;
	double end = now() + seconds;
	while (now() < end)
		for (int i = 0; i < 100000; i++) x++;
	return 0;
}

/* Uses `seconds` of CPU time, however long that takes under a quota. */
static int burn(double seconds) {
	volatile unsigned long x = 0;
	struct timespec ts;
	do {
		for (int i = 0; i < 100000; i++) x++;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	} while (ts.tv_sec + ts.tv_nsec / 1e9 < seconds);
	return 0;
}

static int forkbomb(int n) {
	int made = 0, err = 0;
	pid_t kids[4096];
	for (; made < n && made < 4096; made++) {
		pid_t p = fork();
		if (p < 0) {
			err = errno;
			break;
		}
		if (p == 0) {
			pause();
			_exit(0);
		}
		kids[made] = p;
	}
	printf("forked %d: %s\n", made, err ? strerror(err) : "no error");
	for (int i = 0; i < made; i++) kill(kids[i], SIGKILL);
	while (wait(NULL) > 0) {
	}
	return 0;
}

static int try_write(const char* path) {
	FILE* f = fopen(path, "w");
	if (!f || fputs("x", f) < 0 || fclose(f) != 0) {
		printf("%s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("%s: written\n", path);
	return 0;
}

int main(int argc, char** argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: prober status|fds|env|hog MB|spin S|burn S|forkbomb N|exit N|kill SIG|write PATH\n");
		return 2;
	}
	const char* cmd = argv[1];
	const char* arg = argc > 2 ? argv[2] : "0";
	if (!strcmp(cmd, "status")) return status();
	if (!strcmp(cmd, "fds")) return fds();
	if (!strcmp(cmd, "env")) {
		for (char** e = environ; *e; e++) printf("%s\n", *e);
		return 0;
	}
	if (!strcmp(cmd, "hog")) return hog(atol(arg));
	if (!strcmp(cmd, "spin")) return spin(atof(arg));
	if (!strcmp(cmd, "burn")) return burn(atof(arg));
	if (!strcmp(cmd, "forkbomb")) return forkbomb(atoi(arg));
	if (!strcmp(cmd, "exit")) return atoi(arg);
	if (!strcmp(cmd, "kill")) {
		signal(atoi(arg), SIG_DFL);
		raise(atoi(arg));
		return 99;
	}
	if (!strcmp(cmd, "write")) return try_write(arg);
	fprintf(stderr, "prober: %s: unknown command\n", cmd);
	return 2;
}
