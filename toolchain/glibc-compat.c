/* Entry points that Debian's glibc-built static libraries (libmbedtls.a and friends, built
 * with _FORTIFY_SOURCE) call but musl does not provide. toolchain/cross.sh links the
 * static `mote` against musl's libc.a (Debian's musl-dev) because a static glibc costs
 * about 360 KB before main() does anything; this file maps the fortified calls onto the
 * plain ones, keeping their checks (a violated bound aborts, as glibc's would), and the
 * few large-file entry points glibc headers name that musl does not export. */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dst_len);
void *__memmove_chk(void *dst, const void *src, size_t n, size_t dst_len);
void *__memset_chk(void *dst, int c, size_t n, size_t dst_len);
int __vsnprintf_chk(char *s, size_t n, int flag, size_t s_len, const char *fmt, va_list ap);
int __snprintf_chk(char *s, size_t n, int flag, size_t s_len, const char *fmt, ...);
int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap);
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);
int __printf_chk(int flag, const char *fmt, ...);
long __fdelt_chk(long fd);
void (*__sysv_signal(int sig, void (*handler)(int)))(int);
int fcntl64(int fd, int cmd, ...);

void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dst_len)
{
    if (n > dst_len) abort();
    return memcpy(dst, src, n);
}

void *__memmove_chk(void *dst, const void *src, size_t n, size_t dst_len)
{
    if (n > dst_len) abort();
    return memmove(dst, src, n);
}

void *__memset_chk(void *dst, int c, size_t n, size_t dst_len)
{
    if (n > dst_len) abort();
    return memset(dst, c, n);
}

int __vsnprintf_chk(char *s, size_t n, int flag, size_t s_len, const char *fmt, va_list ap)
{
    (void)flag;
    if (n > s_len) abort();
    return vsnprintf(s, n, fmt, ap);
}

int __snprintf_chk(char *s, size_t n, int flag, size_t s_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = __vsnprintf_chk(s, n, flag, s_len, fmt, ap);
    va_end(ap);
    return r;
}

int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap)
{
    (void)flag;
    return vfprintf(f, fmt, ap);
}

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = __vfprintf_chk(f, flag, fmt, ap);
    va_end(ap);
    return r;
}

int __printf_chk(int flag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = __vfprintf_chk(stdout, flag, fmt, ap);
    va_end(ap);
    return r;
}

long __fdelt_chk(long fd)
{
    if (fd < 0 || fd >= FD_SETSIZE) abort();
    return fd / (long)(8 * sizeof(long));
}

void (*__sysv_signal(int sig, void (*handler)(int)))(int)
{
    return signal(sig, handler);
}

/* glibc (2.28+) maps fcntl to fcntl64 when _FILE_OFFSET_BITS=64 on 32-bit targets; musl's
 * fcntl always takes the 64-bit struct flock, so the call is the same. The third argument
 * is an int or a pointer; both travel as one machine word. */
int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    unsigned long arg = va_arg(ap, unsigned long);
    va_end(ap);
    return fcntl(fd, cmd, arg);
}
