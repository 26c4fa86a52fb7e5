/* Peak resident memory of every process a command starts, and of the command itself: each one is stopped by
 * ptrace just before it exits (PTRACE_O_TRACEEXIT), while its memory is still there to read, and its VmHWM
 * (high-water RSS, /proc/PID/status) is printed as "KIB NAME" on stderr, one line per process.
 * GNU time's %M gives only the largest process of the tree (wait4 folds the children's peaks into the parent's);
 * this tells ctdoctor's own peak from those of the tools it runs. The stops slow the processes down, so time is
 * measured in separate runs.
 * Usage: peak-rss COMMAND [ARG...]   (stdout of COMMAND is left as it is; exit status is COMMAND's) */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(pid_t pid)
{
    char path[64], line[256], name[64] = "?";
    long hwm = -1, tgid = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "Name:", 5) == 0)
            sscanf(line + 5, "%63s", name);
        else if (strncmp(line, "Tgid:", 5) == 0)
            tgid = strtol(line + 5, NULL, 10);
        else if (strncmp(line, "VmHWM:", 6) == 0)
            hwm = strtol(line + 6, NULL, 10);
    }
    fclose(f);
    /* A thread's exit is not its process's. */
    if (hwm >= 0 && tgid == pid)
        fprintf(stderr, "%ld %s\n", hwm, name);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: peak-rss COMMAND [ARG...]\n");
        return 2;
    }
    pid_t child = fork();
    if (child < 0)
        return 2;
    if (child == 0) {
        ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        raise(SIGSTOP);
        execvp(argv[1], argv + 1);
        _exit(127);
    }
    int status, exit_code = 0;
    waitpid(child, &status, 0);
    ptrace(PTRACE_SETOPTIONS, child, NULL,
           (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
                          PTRACE_O_EXITKILL));
    ptrace(PTRACE_CONT, child, NULL, NULL);
    for (;;) {
        pid_t pid = waitpid(-1, &status, __WALL);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            if (pid == child)
                exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            continue;
        }
        if (!WIFSTOPPED(status))
            continue;
        int sig = WSTOPSIG(status), event = status >> 16;
        if (event == PTRACE_EVENT_EXIT) {
            report(pid);
            sig = 0;
        } else if (event != 0 || sig == SIGTRAP || sig == SIGSTOP) {
            sig = 0;
        }
        ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig);
    }
    return exit_code;
}
