/* A stand-in for a compromised document program (tests/unit/confinement_test.cpp): run in the
 * place of pdftotext, under the same confinement, it tries one attack and says on stdout how
 * it went:
 *   "done"            the attack worked
 *   "refused <errno>" a system call failed (the name of the errno value)
 * A process killed by the seccomp filter (SIGSYS) prints nothing.
 *
 *   confine_probe read <file>         read a file (a secret, the store)
 *   confine_probe list <dir>          list a folder
 *   confine_probe write <file>        open an existing file for writing, truncating it (what
 *                                     RLIMIT_FSIZE 0 does not stop)
 *   confine_probe create <dir>        create a new file in a folder
 *   confine_probe mmap-write <file>   open a file read-write and change it through mmap
 *   confine_probe socket              open an AF_INET socket
 *   confine_probe unix                open an AF_UNIX socket
 *   confine_probe connect <port>      connect to 127.0.0.1:<port> and send a byte
 *   confine_probe exec <program>      exec a program (with "-c" "echo done" for a shell)
 *   confine_probe ptrace              PTRACE_TRACEME (become traceable by the daemon)
 *   confine_probe signal              kill(parent, 0): may it signal the daemon?
 *   confine_probe fork                fork a process
 *   confine_probe rlimit              raise its address-space limit (as root: CAP_SYS_RESOURCE)
 *   confine_probe sleep               sleep until killed (a hanging extractor)
 *   confine_probe env                 print the environment's size ("env <n>")
 *   confine_probe fds                 print the open descriptors ("fds 0 1 2")
 *
 * And, to stand for a kernel without a layer (inspect_cli_test):
 *   confine_probe without landlock|seccomp <program> <args>...
 * execs the program under a seccomp filter that makes landlock_create_ruleset fail with
 * ENOSYS, or prctl(PR_SET_SECCOMP) with EINVAL, as such a kernel answers.
 *
 * Called as pdftotext is (`confine_probe -q -enc UTF-8 ... - -`), it reads the attack from its
 * stdin instead: the "PDF" is "%PDF-1.4\n<what> <arg>\n". So the test can hand it to the real
 * document path (extract_pdf_text_with, PdfExtractorPool) as the pdftotext program.
 *
 * Plain C, no sanitizers (they read /proc, which the confinement hides). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

static int refused(void) {
  const char* name = strerrorname_np(errno);
  printf("refused %s\n", name ? name : "?");
  return 0;
}

static int done(void) {
  printf("done\n");
  return 0;
}

static int change_through_mmap(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return refused();
  if (st.st_size < 1) {
    errno = EINVAL;
    return refused();
  }
  char* p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return refused();
  p[0] = 'X';
  if (msync(p, (size_t)st.st_size, MS_SYNC) != 0) return refused();
  return done();
}

static int without(const char* layer, char** argv) {
  const unsigned nr = strcmp(layer, "landlock") == 0 ? SYS_landlock_create_ruleset : SYS_prctl;
  const unsigned err = strcmp(layer, "landlock") == 0 ? ENOSYS : EINVAL;
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 3),
      /* prctl: only PR_SET_SECCOMP (landlock: any arguments). */
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr == SYS_prctl ? PR_SET_SECCOMP : 0, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | err),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  if (nr != SYS_prctl) f[3] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0);
  struct sock_fprog prog = {sizeof f / sizeof f[0], f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) {
    perror("confine_probe: seccomp");
    return 2;
  }
  execv(argv[0], argv);
  perror("confine_probe: exec");
  return 2;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc < 2) return 2;
  const char* what = argv[1];
  const char* arg = argc > 2 ? argv[2] : "";
  if (strcmp(what, "without") == 0 && argc > 3) return without(argv[2], argv + 3);
  static char input[4096];
  if (what[0] == '-') {  // as pdftotext: the attack is the document's second line
    size_t n = 0;
    ssize_t got;
    while (n < sizeof input - 1 && (got = read(0, input + n, sizeof input - 1 - n)) > 0) {
      n += (size_t)got;
    }
    input[n] = '\0';
    char* line = strchr(input, '\n');
    if (line == NULL) return 2;
    ++line;
    line[strcspn(line, "\n")] = '\0';
    what = line;
    char* space = strchr(line, ' ');
    arg = "";
    if (space != NULL) {
      *space = '\0';
      arg = space + 1;
    }
  }

  if (strcmp(what, "read") == 0) {
    int fd = open(arg, O_RDONLY);
    if (fd < 0) return refused();
    char buf[64];
    if (read(fd, buf, sizeof buf) < 0) return refused();
    return done();
  }
  if (strcmp(what, "list") == 0) {
    DIR* d = opendir(arg);
    if (d == NULL) return refused();
    errno = 0;
    if (readdir(d) == NULL && errno != 0) return refused();
    return done();
  }
  if (strcmp(what, "write") == 0) {
    int fd = open(arg, O_WRONLY | O_TRUNC);
    if (fd < 0) return refused();
    return done();
  }
  if (strcmp(what, "create") == 0) {
    char path[4096];
    snprintf(path, sizeof path, "%s/created-by-probe", arg);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return refused();
    return done();
  }
  if (strcmp(what, "mmap-write") == 0) {
    int fd = open(arg, O_RDWR);
    if (fd < 0) return refused();
    return change_through_mmap(fd);
  }
  if (strcmp(what, "socket") == 0) {
    if (socket(AF_INET, SOCK_STREAM, 0) < 0) return refused();
    return done();
  }
  if (strcmp(what, "unix") == 0) {
    if (socket(AF_UNIX, SOCK_STREAM, 0) < 0) return refused();
    return done();
  }
  if (strcmp(what, "connect") == 0) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return refused();
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)atoi(arg));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr*)&a, sizeof a) != 0) return refused();
    if (write(s, "X", 1) != 1) return refused();
    return done();
  }
  if (strcmp(what, "exec") == 0) {
    char* args[] = {(char*)arg, "-c", "echo done", NULL};
    execve(arg, args, environ);
    return refused();
  }
  if (strcmp(what, "ptrace") == 0) {
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) return refused();
    return done();
  }
  if (strcmp(what, "signal") == 0) {
    if (kill(getppid(), 0) != 0) return refused();
    return done();
  }
  if (strcmp(what, "fork") == 0) {
    pid_t pid = fork();
    if (pid < 0) return refused();
    if (pid == 0) _exit(0);
    waitpid(pid, NULL, 0);
    return done();
  }
  if (strcmp(what, "rlimit") == 0) {
    struct rlimit r = {RLIM_INFINITY, RLIM_INFINITY};
    if (setrlimit(RLIMIT_AS, &r) != 0) return refused();
    return done();
  }
  if (strcmp(what, "sleep") == 0) {
    for (;;) pause();
  }
  if (strcmp(what, "env") == 0) {
    int n = 0;
    while (environ[n] != NULL) ++n;
    printf("env %d\n", n);
    return 0;
  }
  if (strcmp(what, "fds") == 0) {
    printf("fds");
    for (int fd = 0; fd < 1024; ++fd) {
      if (fcntl(fd, F_GETFD) != -1) printf(" %d", fd);
    }
    printf("\n");
    return 0;
  }
  return 2;
}
