/* handoff.c - starts the detached senders of --push. */
#define _GNU_SOURCE
#include "runtime/handoff.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The sender's command line into argv (room for 12), exe its buffer.
 * Returns 0 or -errno. */
static int sender_argv(char *exe, size_t cap, char **argv, const char *session, const char *url,
                       const char *name, const char *labels, int follow) {
    ssize_t n = readlink("/proc/self/exe", exe, cap - 1);
    if (n <= 0)
        return -errno;
    exe[n] = 0;
    int k = 0;
    argv[k++] = exe;
    argv[k++] = (char *)"--push-session";
    argv[k++] = (char *)session;
    argv[k++] = (char *)"--push";
    argv[k++] = (char *)url;
    if (name) {
        argv[k++] = (char *)"--push-name";
        argv[k++] = (char *)name;
    }
    if (labels) {
        argv[k++] = (char *)"--push-labels";
        argv[k++] = (char *)labels;
    }
    if (follow)
        argv[k++] = (char *)"--push-follow";
    argv[k] = NULL;
    return 0;
}

int omni_handoff_push_follow(const char *session, const char *url, const char *name,
                             const char *labels) {
    char exe[4096], *argv[12];
    int rc = sender_argv(exe, sizeof exe, argv, session, url, name, labels, 1);
    if (rc < 0)
        return rc;
    /* Twice forked: the sender is not the target's child (the target's
     * waits and SIGCHLD never see it), and the middle process is reaped
     * here before the target runs. Only async-signal-safe calls after fork. */
    pid_t mid = fork();
    if (mid < 0)
        return -errno;
    if (mid == 0) {
        setsid();
        pid_t pid = fork();
        if (pid == 0) {
            int null = open("/dev/null", O_RDWR);
            for (int fd = 0; fd < 3 && null >= 0; fd++)
                dup2(null, fd);
            closefrom(3);
            execve(exe, argv, environ);
        }
        syscall(SYS_exit_group, pid < 0 ? 1 : 0);
    }
    int st;
    while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -ECHILD;
}

int omni_handoff_push(const char *session, const char *url, const char *name,
                      const char *labels) {
    char exe[4096], *argv[12];
    int rc0 = sender_argv(exe, sizeof exe, argv, session, url, name, labels, 0);
    if (rc0 < 0)
        return rc0;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return -ENOMEM;
    if (posix_spawnattr_init(&at) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -ENOMEM;
    }
    /* a session of its own (no signal of the target's terminal reaches it),
     * stdio on /dev/null and nothing else of the target's open: whoever
     * waits on the target's pipes is not kept waiting by the sender */
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    pid_t pid;
    int rc = posix_spawn(&pid, exe, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return rc ? -rc : 0;
}
