/*
 * prog_http_server PORT
 *
 * A small HTTP/1.1 server on 0.0.0.0:PORT (one connection at a time,
 * keep-alive and pipelining, Content-Length and chunked request bodies) whose
 * rare paths each make a marker call, so a test can tell which request shape
 * reached which path:
 *
 *   GET /deep/secret.html            getpgid   (linked only from /a.html)
 *   POST /submit                     sched_get_priority_max (the form on /)
 *   any PROPFIND                     getsid
 *   a Range header on an existing
 *     page (GET or HEAD)             times
 *   a request body sent chunked      sysinfo   (Transfer-Encoding: chunked)
 *
 * Pages: / (links to /a.html and /dir/, a POST form to /submit with fields q
 * and go), /a.html (a link to /deep/secret.html), /deep/secret.html, /dir/ (a
 * listing linking to file.txt), /dir/file.txt (4096 bytes, the largest).
 * Anything else is 404; a method other than GET, HEAD, POST and PROPFIND is
 * 405; a request it cannot parse is 400 and closes the connection.
 *
 * Marker calls (arch x86_64): as above, once per request that reaches them.
 * Non-marker calls besides dynamic start-up and exit: rt_sigaction,
 * socket, setsockopt, bind, listen, accept, read, write, close.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>

#include "prog_util.h"

#define CAP (256 * 1024)
static char buf[CAP];
static size_t len;

static void send_all(int c, const char *data, size_t n)
{
    while (n > 0) {
        ssize_t w = write(c, data, n);
        if (w <= 0)
            return;
        data += w;
        n -= (size_t)w;
    }
}

/* Reads more into buf; 0 at the end of the connection or on its timeout. */
static int fill(int c)
{
    if (len == CAP)
        return 0;
    ssize_t n = read(c, buf + len, CAP - len);
    if (n <= 0)
        return 0;
    len += (size_t)n;
    return 1;
}

/* The end of the head (past its blank line) in buf, or 0. */
static size_t head_end(void)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] == '\n' && buf[i + 1] == '\n')
            return i + 2;
        if (i + 3 < len && memcmp(buf + i, "\r\n\r\n", 4) == 0)
            return i + 4;
    }
    return 0;
}

/* The value of header name in the head [0, end), or NULL; copied into out. */
static const char *header(size_t end, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    for (size_t i = 0; i < end; i++) {
        if (buf[i] != '\n' || i + 1 + nlen + 1 > end)
            continue;
        if (strncasecmp(buf + i + 1, name, nlen) != 0 || buf[i + 1 + nlen] != ':')
            continue;
        size_t at = i + 1 + nlen + 1, o = 0;
        while (at < end && buf[at] == ' ')
            at++;
        while (at < end && buf[at] != '\r' && buf[at] != '\n' && o + 1 < cap)
            out[o++] = buf[at++];
        out[o] = 0;
        return out;
    }
    return NULL;
}

static void respond(int c, int status, const char *reason, const char *type, const char *body, size_t n,
                    int head_only, int close_after, const char *extra)
{
    char h[512];
    int hl = snprintf(h, sizeof h, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n",
                      status, reason, type, n, extra ? extra : "", close_after ? "Connection: close\r\n" : "");
    send_all(c, h, (size_t)hl);
    if (!head_only)
        send_all(c, body, n);
}

static char file_txt[4096];

/* Consumes a chunked body after the head; -1 when it is malformed or cut. */
static int skip_chunked(int c, size_t at)
{
    for (;;) {
        char *nl;
        while (!(nl = memchr(buf + at, '\n', len - at)))
            if (!fill(c))
                return -1;
        char *endp;
        unsigned long size = strtoul(buf + at, &endp, 16);
        if (endp == buf + at)
            return -1;
        at = (size_t)(nl - buf) + 1;
        if (size == 0) {
            /* Trailer lines up to a blank one. */
            for (;;) {
                while (!(nl = memchr(buf + at, '\n', len - at)))
                    if (!fill(c))
                        return -1;
                size_t line = (size_t)(nl - buf) - at;
                at = (size_t)(nl - buf) + 1;
                if (line == 0 || (line == 1 && buf[at - 2] == '\r'))
                    return (int)at;
            }
        }
        while (len < at + size + 1)
            if (!fill(c))
                return -1;
        at += size;
        while (!(nl = memchr(buf + at, '\n', len - at)))
            if (!fill(c))
                return -1;
        at = (size_t)(nl - buf) + 1;
    }
}

/* Serves requests on c until it closes or a request says so. */
static void serve(int c)
{
    len = 0;
    for (;;) {
        size_t end;
        while (!(end = head_end())) {
            /* A request line without a version (HTTP/0.9) or garbage: no head will follow. */
            char *nl = memchr(buf, '\n', len);
            if (nl) {
                int spaces = 0;
                for (char *p = buf; p < nl; p++)
                    spaces += *p == ' ';
                if (spaces < 2) {
                    respond(c, 400, "Bad Request", "text/plain", "bad\n", 4, 0, 1, NULL);
                    return;
                }
            }
            if (!fill(c)) {
                if (len == CAP)
                    respond(c, 431, "Request Header Fields Too Large", "text/plain", "", 0, 0, 1, NULL);
                return;
            }
        }
        char method[32] = {0}, target[128] = {0}, version[16] = {0};
        {
            char *sp1 = memchr(buf, ' ', end);
            char *sp2 = sp1 ? memchr(sp1 + 1, ' ', end - (size_t)(sp1 + 1 - buf)) : NULL;
            char *nl = memchr(buf, '\n', end);
            if (!sp1 || !sp2 || sp2 > nl || (size_t)(sp1 - buf) >= sizeof method) {
                respond(c, 400, "Bad Request", "text/plain", "bad\n", 4, 0, 1, NULL);
                return;
            }
            memcpy(method, buf, (size_t)(sp1 - buf));
            size_t tl = (size_t)(sp2 - sp1 - 1);
            memcpy(target, sp1 + 1, tl < sizeof target - 1 ? tl : sizeof target - 1);
            size_t vl = (size_t)(nl - sp2 - 1);
            if (vl > 0 && sp2[vl] == '\r')
                vl--;
            memcpy(version, sp2 + 1, vl < sizeof version - 1 ? vl : sizeof version - 1);
        }
        char value[256];
        int close_after = strcmp(version, "HTTP/1.1") != 0;
        if (header(end, "Connection", value, sizeof value))
            close_after = strcasecmp(value, "close") == 0 ? 1 : strcasecmp(value, "keep-alive") == 0 ? 0 : close_after;
        int head_only = strcmp(method, "HEAD") == 0;
        int ranged = header(end, "Range", value, sizeof value) != NULL;

        /* The body. */
        size_t next = end;
        if (header(end, "Transfer-Encoding", value, sizeof value) && strcasestr(value, "chunked")) {
            struct sysinfo info;
            syscall(SYS_sysinfo, &info);
            int at = skip_chunked(c, end);
            if (at < 0) {
                respond(c, 400, "Bad Request", "text/plain", "bad chunk\n", 10, 0, 1, NULL);
                return;
            }
            next = (size_t)at;
        } else if (header(end, "Content-Length", value, sizeof value)) {
            char *endp;
            long n = strtol(value, &endp, 10);
            if (endp == value || *endp || n < 0) {
                respond(c, 400, "Bad Request", "text/plain", "bad length\n", 11, 0, 1, NULL);
                return;
            }
            /* Read and drop it, keeping what follows (a pipelined request). */
            size_t want = (size_t)n;
            while (len - end < want) {
                size_t have = len - end;
                want -= have;
                len = end;
                if (!fill(c))
                    return;
            }
            next = end + want;
        }

        const char *body = NULL, *type = "text/html";
        size_t n = 0;
        int exists = 1;
        if (strcmp(target, "/") == 0) {
            body = "<html><body><a href=\"/a.html\">a</a> <a href='dir/'>dir</a>"
                   "<form action=\"/submit\" method=\"post\"><input name=\"q\"><input type=\"submit\" name=\"go\">"
                   "</form></body></html>\n";
        } else if (strcmp(target, "/a.html") == 0) {
            body = "<html><body><a href=\"deep/secret.html\">secret</a></body></html>\n";
        } else if (strcmp(target, "/deep/secret.html") == 0) {
            body = "<html><body>secret</body></html>\n";
        } else if (strcmp(target, "/dir/") == 0) {
            body = "<html><body><h1>Index of /dir/</h1><a href=\"../\">../</a><a href=\"file.txt\">file.txt</a>"
                   "</body></html>\n";
        } else if (strcmp(target, "/dir/file.txt") == 0) {
            body = file_txt;
            n = sizeof file_txt;
            type = "text/plain";
        } else if (strcmp(target, "/submit") == 0) {
            body = "thanks\n";
        } else {
            exists = 0;
        }
        if (body && !n)
            n = strlen(body);

        if (strcmp(method, "PROPFIND") == 0) {
            syscall(SYS_getsid, 0);
            const char *xml = "<?xml version=\"1.0\"?><D:multistatus xmlns:D=\"DAV:\"/>\n";
            respond(c, 207, "Multi-Status", "application/xml", xml, strlen(xml), 0, close_after, NULL);
        } else if (!exists) {
            respond(c, 404, "Not Found", "text/plain", "not found\n", 10, head_only, close_after, NULL);
        } else if (strcmp(method, "GET") == 0 || head_only) {
            if (strcmp(target, "/deep/secret.html") == 0)
                syscall(SYS_getpgid, 0);
            if (ranged) {
                struct tms t;
                syscall(SYS_times, &t);
                char extra[64];
                snprintf(extra, sizeof extra, "Content-Range: bytes 0-0/%zu\r\n", n);
                respond(c, 206, "Partial Content", type, body, 1, head_only, close_after, extra);
            } else {
                respond(c, 200, "OK", type, body, n, head_only, close_after, NULL);
            }
        } else if (strcmp(method, "POST") == 0) {
            if (strcmp(target, "/submit") == 0)
                syscall(SYS_sched_get_priority_max, SCHED_OTHER);
            respond(c, 200, "OK", "text/plain", "posted\n", 7, 0, close_after, NULL);
        } else {
            respond(c, 405, "Method Not Allowed", "text/plain", "no\n", 3, 0, close_after, NULL);
        }
        if (close_after)
            return;
        memmove(buf, buf + next, len - next);
        len -= next;
    }
}

int main(int argc, char **argv)
{
    if (argc != 2)
        usage("PORT");
    memset(file_txt, 'f', sizeof file_txt);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        fail_errno("sigaction");
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        fail_errno("socket");
    int one = 1;
    if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
        fail_errno("setsockopt");
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)atoi(argv[1]));
    if (bind(s, (struct sockaddr *)&addr, sizeof addr) != 0)
        fail_errno("bind");
    if (listen(s, 128) != 0)
        fail_errno("listen");
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        struct timeval tv = {2, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        serve(c);
        close(c);
    }
}
