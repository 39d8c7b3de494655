/* The performance floor: the least a client can do to scan one message.
 * Reads the file, opens one TCP connection, posts it to /checkv2, reads the
 * reply to EOF and exits 0 if it starts with "HTTP/1.1 200".
 *   floor HOST PORT FILE */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 4)
        return 64;
    int fd = open(argv[3], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return 66;
    char *body = malloc((size_t)st.st_size + 1);
    if (!body || read(fd, body, (size_t)st.st_size) != st.st_size)
        return 74;
    close(fd);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    inet_pton(AF_INET, argv[1], &sa.sin_addr);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0)
        return 69;
    char head[128];
    int hl = snprintf(head, sizeof head, "POST /checkv2 HTTP/1.0\r\nContent-Length: %lld\r\n\r\n",
                      (long long)st.st_size);
    if (write(s, head, (size_t)hl) != hl || write(s, body, (size_t)st.st_size) != st.st_size)
        return 74;
    char buf[65536];
    ssize_t n, total = 0;
    int ok = 0;
    while ((n = read(s, buf, sizeof buf)) > 0) {
        if (total == 0 && n >= 12 && memcmp(buf, "HTTP/1.1 200", 12) == 0)
            ok = 1;
        total += n;
    }
    close(s);
    free(body);
    return ok ? 0 : 1;
}
