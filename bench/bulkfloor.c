/* The CPU floor of a bulk scan: the least a client can spend per message
 * when the server takes one connection per request (Rspamd always answers
 * "Connection: close"). For each path in LIST: read the file, connect,
 * post it to /checkv2, read the reply to EOF, close. Blocking calls,
 * nothing parsed or printed; 8 processes, each taking every 8th path, keep
 * 8 messages in flight like -n 8 (their CPU adds up in the parent's
 * rusage of its children, which /usr/bin/time reports).
 *   bulkfloor HOST PORT LIST     (TCP)
 *   bulkfloor SOCKET - LIST      (UNIX socket)
 * Exits 0 if every reply started with "HTTP/1.1 200". */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char body[64 << 20], reply[1 << 20];

int main(int argc, char **argv)
{
    if (argc != 4)
        return 64;
    int unix_sock = strcmp(argv[2], "-") == 0;
    struct sockaddr_in in = {.sin_family = AF_INET};
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    if (unix_sock) {
        snprintf(un.sun_path, sizeof un.sun_path, "%s", argv[1]);
    } else {
        in.sin_port = htons((uint16_t)atoi(argv[2]));
        inet_pton(AF_INET, argv[1], &in.sin_addr);
    }
    enum { WORKERS = 8 };
    int me = 0;
    for (; me < WORKERS - 1; me++) {
        pid_t pid = fork();
        if (pid < 0)
            return 71;
        if (pid == 0)
            break;
    }
    FILE *list = fopen(argv[3], "r"); /* each its own: no shared offset */
    if (!list)
        return 66;
    char path[4096];
    int bad = 0;
    for (long line = 0; fgets(path, sizeof path, list); line++) {
        if (line % WORKERS != me)
            continue;
        path[strcspn(path, "\n")] = 0;
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            return 66;
        ssize_t len = read(fd, body, sizeof body);
        close(fd);
        if (len < 0)
            return 74;
        int s = socket(unix_sock ? AF_UNIX : AF_INET, SOCK_STREAM, 0);
        if (s < 0 || (unix_sock ? connect(s, (struct sockaddr *)&un, sizeof un)
                                : connect(s, (struct sockaddr *)&in, sizeof in)) < 0)
            return 69;
        char head[128];
        int hl = snprintf(head, sizeof head, "POST /checkv2 HTTP/1.0\r\nContent-Length: %zd\r\n\r\n", len);
        if (write(s, head, (size_t)hl) != hl || write(s, body, (size_t)len) != len)
            return 74;
        ssize_t n, total = 0;
        while ((n = read(s, reply + total, sizeof reply - (size_t)total)) > 0)
            total += n;
        bad |= total < 12 || memcmp(reply, "HTTP/1.1 200", 12) != 0;
        close(s);
    }
    fclose(list);
    if (me < WORKERS - 1)
        return bad; /* a worker */
    int st;
    while (wait(&st) > 0)
        bad |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    return bad;
}
