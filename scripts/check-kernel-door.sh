#!/bin/sh
# Only src/sys/ talks to the kernel directly: every raw system call wrapper
# (open, ioctl, mount, setns, ptrace, waitpid, kill, socket, ...) outside it
# is reported, with its file and line, and the script exits 1. Library calls
# (libbpf in the eBPF backend, libseccomp, the C++ library) are not raw calls.
# getpid() only reads this process's id and is allowed anywhere.
set -eu
cd "$(dirname "$0")/.."
calls='open|openat|creat|close|read|write|pread|pwrite|readv|writev|ioctl|mount|umount2?|setns|unshare|fork|vfork|clone3?|execv|execve|execvp|execveat|waitpid|waitid|wait4|kill|tgkill|ptrace|socket|socketpair|connect|bind|listen|accept4?|pipe2?|dup2?|dup3|mkdtemp|mkstemp|memfd_create|lseek|fcntl|poll|ppoll|prctl|syscall|bpf|mmap|munmap|mprotect|chroot|pivot_root|sethostname|setrlimit|prlimit|getrlimit|process_vm_readv|process_vm_writev|sigaction|sigprocmask|pthread_sigmask|signalfd|epoll_create1?|epoll_ctl|epoll_wait|inotify_init1?|access|faccessat|stat|fstat|lstat|statx|unlink|unlinkat|rmdir|mkdir|mkdirat|rename|renameat2?|chmod|fchmod|chown|fchown|symlink|readlink|recv|recvmsg|recvfrom|send|sendmsg|sendto|setsockopt|getsockopt|shutdown|sched_setaffinity|flock|ftruncate|fsync|setpgid|setsid|setuid|setgid|capget|capset|seccomp|perf_event_open|personality|madvise|mlock|sysinfo|uname'
# Each line without its string literals and comments, then the raw calls in it.
found=$(find src cli \( -name '*.cpp' -o -name '*.h' \) -not -path 'src/sys/*' | sort | xargs perl -ne '
  s{"(?:[^"\\]|\\.)*"}{""}g;      # string literals
  s{//.*}{};                     # line comments
  next if m{^\s*(/\*|\*)};        # block comment lines
  if (/(^|[^A-Za-z0-9_.>:])(::)?('"$calls"')\(/) {
    my $call = $3;
    # a declaration or definition of a function of that name, or a member call
    next if /(static|>|Status|void|bool|int|auto)\s+[A-Za-z_:]*\b$call\s*\(/;
    next if /(^|[^A-Za-z0-9_])(std|fs|sys|trace|engine|profile|explore)::$call\(/ && !/(^|[^A-Za-z0-9_:])::$call\(/;
    next if /!read\(v, range/;     # JsonValue::read calling itself
    print "$ARGV:$.:$_";
  }
  close ARGV if eof;' || true)
if [ -n "$found" ]; then
  echo "check-kernel-door: raw kernel calls outside src/sys/ (put them behind a function there):" >&2
  echo "$found" >&2
  exit 1
fi
echo "check-kernel-door: every raw kernel call is in src/sys/"
