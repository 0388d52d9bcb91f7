/* handoff.c - starts the detached sender of --push. */
#define _GNU_SOURCE
#include "runtime/handoff.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stddef.h>
#include <unistd.h>

extern char **environ;

int omni_handoff_push(const char *session, const char *url, const char *name,
                      const char *labels) {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -errno;
    exe[n] = 0;
    char *argv[12];
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
    argv[k] = NULL;
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
